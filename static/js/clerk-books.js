/* 店员中心: 交接班 (the drawer's cash for the shift, counted and handed over) and 日结 (the store's sales daily
 * report of a business day, closed once it has ended). Both open in the page's bottom sheet. */
(function () {
  'use strict';
  var SL = window.SL, Staff = window.Staff, el = SL.el;

  function row(label, value, attrs) { return Staff.kv(label, value, attrs); }
  function section(text) { return el('div', {class: 'staff-section', text: text}); }
  var Report = SL.dayEndReport, signed = Report.signed;

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
  function openDayEnd(sheet, date) {
    date = date || Report.chinaToday();
    var body = sheet.open('日结 · 销售日报', el('div', {class: 'staff-status', text: '正在读取 ' + date + ' 的日报…'}));
    SL.api('GET', '/clerk/day-end?date=' + encodeURIComponent(date)).then(function (report) {
      body.innerHTML = '';
      dayEndView(sheet, report).forEach(function (node) { if (node) body.appendChild(node); });
    }, function () { sheet.close(); });
  }

  function dayEndView(sheet, r) {
    var picker = el('input', {type: 'date', id: 'dayend-date', value: r.business_date, max: Report.chinaToday()});
    picker.addEventListener('change', function () { if (picker.value) openDayEnd(sheet, picker.value); });
    var nodes = [el('div', {class: 'staff-field'}, [el('label', {for: 'dayend-date', text: '营业日'}), picker])]
      .concat(Report.nodes(r, 'dayend'));
    if (r.status === 'open' && r.ended) nodes.push(closeButton(sheet, r));
    return nodes;
  }

  function closeButton(sheet, r) {
    var button = el('button', {type: 'button', class: 'weui-btn weui-btn_primary staff-wide', id: 'dayend-close', text: '日结 ' + r.business_date});
    button.addEventListener('click', function () {
      SL.confirm(r.business_date + ' ' + Report.CLOSE_WARNING, {ok: '确认日结'}).then(function (yes) {
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
