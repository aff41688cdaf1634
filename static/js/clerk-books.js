/* 店员中心: 交接班 (the drawer's cash for the shift, counted and handed over) and 日结 (the store's sales daily
 * report of a business day, closed once it has ended). Both open in the page's bottom sheet. */
(function () {
  'use strict';
  var SL = window.SL, Staff = window.Staff, el = SL.el;

  var CHANNEL = {mall: '线上商城', pos: '门店POS', platform: '第三方平台', phone: '电话订单'};
  var PAYMENT_METHOD = {online: '在线支付', at_store: '到店付款', cod: '货到付款'};
  var PAYMENT_ROUTE = {online: '在线支付', store_cash: '门店现金', store_card: '门店刷卡', cod_cash: '货到付款现金'};
  var REFUND_ROUTE = {original: '原路退回', at_store: '门店退款'};
  var PAID_OUT = {cash: '柜台现金退还', card: '柜台刷卡退还'};

  function row(label, value, attrs) { return Staff.kv(label, value, attrs); }
  function section(text) { return el('div', {class: 'staff-section', text: text}); }
  function signed(cents) { return (cents < 0 ? '-' : '') + SL.yuan(Math.abs(cents)); }

  // ---- 交接班 ----------------------------------------------------------------------------------
  function openShift(sheet) {
    var body = sheet.open('交接班', el('div', {class: 'staff-status', text: '正在读取当前班次…'}));
    Promise.all([SL.api('GET', '/clerk/shifts/current'), SL.api('GET', '/clerk/shifts')]).then(function (answers) {
      body.innerHTML = '';
      body.appendChild(shiftForm(sheet, answers[0]));
      if (answers[1].handovers.length) body.appendChild(shiftHistory(answers[1].handovers));
    }, function () { sheet.close(); });
  }

  function shiftForm(sheet, shift) {
    var counted = el('input', {id: 'shift-counted', inputmode: 'decimal', placeholder: '清点现金(元)', autocomplete: 'off'});
    var note = el('input', {id: 'shift-note', maxlength: 200, placeholder: '备注(选填)'});
    var difference = el('div', {class: 'staff-status', id: 'shift-difference', text: '请清点钱箱现金后填写'});
    counted.addEventListener('input', function () {
      var cents = Staff.cents(counted.value);
      if (cents === null) { difference.className = 'staff-status'; difference.textContent = '请清点钱箱现金后填写'; return; }
      var diff = cents - shift.expected_cash;
      difference.className = 'staff-status' + (diff ? ' is-warn' : ' is-ok');
      difference.textContent = diff > 0 ? '长款 ' + SL.yuan(diff) : diff < 0 ? '短款 ' + SL.yuan(-diff) : '无差异';
    });
    var submit = el('button', {type: 'button', class: 'weui-btn weui-btn_primary staff-wide', id: 'shift-close', text: '确认交班'});
    submit.addEventListener('click', function () {
      var cents = Staff.cents(counted.value);
      if (cents === null) return SL.showError('请填写清点的现金金额,如 1234.50');
      submit.disabled = true;
      SL.api('POST', '/clerk/shifts/close', {shift_no: shift.shift_no, counted_cash: cents, note: note.value.trim()}).then(function (h) {
        SL.toast('第 ' + h.shift_no + ' 班已交班(' + h.difference_label + ')');
        openShift(sheet);
      }, function () { submit.disabled = false; openShift(sheet); });
    });
    return el('div', {id: 'shift-current'}, [
      row('当前班次', '第 ' + shift.shift_no + ' 班'),
      row('开班时间', shift.opened_at ? SL.when(shift.opened_at) : '首个班次'),
      row('应有现金', SL.yuan(shift.expected_cash), {id: 'shift-expected'}),
      el('div', {class: 'sl-muted', text: '到店现金收款 + 货到付款回店现金 − 柜台现金退款'}),
      el('div', {class: 'staff-field'}, [el('label', {for: 'shift-counted', text: '实点现金'}), counted]),
      el('div', {class: 'staff-field'}, [el('label', {for: 'shift-note', text: '备注'}), note]),
      difference, submit
    ]);
  }

  function shiftHistory(handovers) {
    return el('div', {id: 'shift-history'}, [section('交班记录')].concat(handovers.map(function (h) {
      return el('div', {class: 'staff-card is-done'}, [
        el('div', {class: 'staff-card__head'}, [
          el('span', {class: 'staff-card__no', text: '第 ' + h.shift_no + ' 班 · ' + Staff.when(h.closed_at) + ' ' + (h.clerk || '')}),
          el('span', {class: 'staff-card__tag', text: h.difference_label})]),
        el('div', {class: 'staff-card__meta', text: '应有 ' + SL.yuan(h.expected_cash) + ' · 实点 ' + SL.yuan(h.counted_cash) +
                                                    ' · 差额 ' + signed(h.difference)}),
        h.note ? el('div', {class: 'staff-card__meta', text: '备注:' + h.note}) : null]);
    })));
  }

  // ---- 日结 ------------------------------------------------------------------------------------
  function chinaToday() {
    return new Date(Date.now() + 8 * 3600 * 1000).toISOString().slice(0, 10);
  }

  function openDayEnd(sheet, date) {
    date = date || chinaToday();
    var body = sheet.open('日结 · 销售日报', el('div', {class: 'staff-status', text: '正在读取 ' + date + ' 的日报…'}));
    SL.api('GET', '/clerk/day-end?date=' + encodeURIComponent(date)).then(function (report) {
      body.innerHTML = '';
      dayEndView(sheet, report).forEach(function (node) { if (node) body.appendChild(node); });
    }, function () { sheet.close(); });
  }

  function dayEndView(sheet, r) {
    var picker = el('input', {type: 'date', id: 'dayend-date', value: r.business_date, max: chinaToday()});
    picker.addEventListener('change', function () { if (picker.value) openDayEnd(sheet, picker.value); });
    var status = r.status === 'closed' ? '已日结 · ' + SL.when(r.closed_at) + ' ' + (r.closed_by || '')
      : r.ended ? '营业日已结束,待日结' : '营业中(实时数据)';
    var nodes = [
      el('div', {class: 'staff-field'}, [el('label', {for: 'dayend-date', text: '营业日'}), picker]),
      el('div', {class: 'staff-status' + (r.status === 'closed' ? ' is-ok' : ''), id: 'dayend-status', text: status}),
      row('销售', r.sales.count + ' 单 · ' + SL.yuan(r.sales.amount), {id: 'dayend-sales'}),
      row('收款', SL.yuan(r.payments.amount)),
      row('退款', SL.yuan(r.refunds.amount)),
      row('净收入', signed(r.net_takings), {id: 'dayend-net'}),
      row('钱箱现金', signed(r.drawer_cash))
    ];
    nodes = nodes.concat(tally('销售 · 按渠道', r.sales.by_channel, CHANNEL, ' 单'),
                         tally('销售 · 按支付方式', r.sales.by_payment_method, PAYMENT_METHOD, ' 单'),
                         tally('收款方式', r.payments.by_route, PAYMENT_ROUTE, ' 笔'), tally('退款去向', r.refunds.by_route, REFUND_ROUTE, ' 笔'),
                         tally('柜台退款', r.refunds.paid_out, PAID_OUT, ' 笔'));
    if (r.status === 'open' && r.ended) nodes.push(closeButton(sheet, r));
    return nodes;
  }

  function tally(title, counts, labels, unit) {
    var keys = Object.keys(counts).filter(function (k) { return counts[k].count; });
    if (!keys.length) return [];
    return [section(title)].concat(keys.map(function (k) {
      return row(labels[k] || k, counts[k].count + unit + ' · ' + SL.yuan(counts[k].amount));
    }));
  }

  function closeButton(sheet, r) {
    var button = el('button', {type: 'button', class: 'weui-btn weui-btn_primary staff-wide', id: 'dayend-close', text: '日结 ' + r.business_date});
    button.addEventListener('click', function () {
      SL.confirm('日结后 ' + r.business_date + ' 的日报不可更改,之后发生的退款等计入下一个营业日。确认日结?', {ok: '确认日结'}).then(function (yes) {
        if (!yes) return;
        button.disabled = true;
        SL.api('POST', '/clerk/day-end/close', {date: r.business_date}).then(function () {
          SL.toast('已日结');
          openDayEnd(sheet, r.business_date);
        }, function () { openDayEnd(sheet, r.business_date); });
      });
    });
    return button;
  }

  window.ClerkBooks = {openShift: openShift, openDayEnd: openDayEnd};
})();
