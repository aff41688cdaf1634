/* 配送员: my deliveries (address, contact, cash to collect); signed for (with the cash collected for COD)
 * or rejected with a reason. The list follows the store's pushes on /clerk. */
(function () {
  'use strict';
  var SL = window.SL, Staff = window.Staff, el = SL.el;
  var sheet = new Staff.Sheet('courier');
  var $ = function (id) { return document.getElementById(id); };
  var socket = null;
  var REASONS = ['客户不在家,联系不上', '客户拒收', '商品破损', '地址错误'];

  function start() {
    SL.onUnauthorized(showLogin);
    $('courier-logout').addEventListener('click', function () { SL.logout(); location.reload(); });
    SL.whoAmI().then(function (me) { return me ? enter(me) : showLogin(); }, showLogin);
  }

  function showLogin() {
    if (socket) { socket.disconnect(); socket = null; }
    $('courier-logout').hidden = true;
    SL.loginForm({account: 'username', title: '配送员登录', hint: '使用门店分配的配送员账号登录'}).then(enter);
  }

  function enter(me) {
    if (me.role !== 'courier') {
      SL.logout();
      SL.showError('该账号不是配送员账号');
      return showLogin();
    }
    $('courier-user').textContent = me.name || '';
    $('courier-logout').hidden = false;
    load();
    socket = SL.socket('/clerk');
    socket.on('order.status', load);
    socket.on('connect', load);
  }

  function load() {
    return SL.api('GET', '/courier/deliveries').then(function (data) { render(data.deliveries); });
  }

  function render(items) {
    var list = $('courier-list');
    list.innerHTML = '';
    $('courier-title').textContent = '我的配送(' + items.length + ')';
    if (!items.length) list.appendChild(el('div', {class: 'staff-empty', text: '暂无待配送的订单'}));
    items.forEach(function (order) { list.appendChild(card(order)); });
  }

  function card(order) {
    var d = order.delivery;
    var phone = order.contact_phone || '';
    return el('div', {class: 'staff-card', dataset: {orderId: order.id}}, [
      el('div', {class: 'staff-card__head'}, [
        el('span', {class: 'staff-card__no', text: Staff.shortNo(order.number) + ' · ' + Staff.when(d.shipped_at)}),
        el('span', {class: 'staff-card__tag is-delivery', text: d.cod_amount ? '货到付款' : '已支付'})]),
      el('div', {class: 'staff-card__lines', text: Staff.addressText(order.address)}),
      el('div', {class: 'staff-card__meta'}, [(order.contact_name || '收货人') + ' ',
        phone ? el('a', {href: 'tel:' + phone, text: phone}) : '']),
      el('div', {class: 'staff-card__meta', text: Staff.linesText(order.lines)}),
      el('div', {class: 'staff-card__meta'}, d.cod_amount ?
        ['应收现金 ', el('span', {class: 'staff-card__money', id: 'collect-' + order.id, text: SL.yuan(d.cod_amount)})] :
        ['无需收款']),
      el('div', {class: 'staff-card__actions'}, [
        el('button', {type: 'button', class: 'weui-btn weui-btn_mini weui-btn_default', id: 'reject-' + order.id,
                      text: '拒签', onclick: function () { openReject(order); }}),
        el('button', {type: 'button', class: 'weui-btn weui-btn_mini weui-btn_primary', id: 'deliver-' + order.id,
                      text: '签收', onclick: function () { openDelivered(order); }})])
    ]);
  }

  function openDelivered(order) {
    var d = order.delivery;
    var status = el('div', {class: 'staff-status', hidden: true});
    var cash = d.cod_amount ? el('input', {id: 'cash-collected', inputmode: 'decimal',
                                           value: (d.cod_amount / 100).toFixed(2)}) : null;
    var go = el('button', {type: 'button', class: 'weui-btn weui-btn_primary staff-wide', id: 'deliver-confirm',
                           text: d.cod_amount ? '已收款,确认签收' : '确认签收'});
    sheet.open('确认签收 ' + Staff.shortNo(order.number), [
      Staff.kv('收货人', (order.contact_name || '') + ' ' + (order.contact_phone || '')),
      d.cod_amount ? Staff.kv('应收现金', SL.yuan(d.cod_amount)) : null,
      cash ? el('div', {class: 'staff-field'}, [el('label', {text: '实收(元)'}), cash]) : null,
      d.cod_amount ? el('div', {class: 'sl-muted', text: '现金交回门店、店员清点后入账'}) : null,
      status, go]);
    go.addEventListener('click', function () {
      var body = {};
      if (cash) {
        var cents = Staff.cents(cash.value);
        if (cents === null) { status.hidden = false; status.className = 'staff-status is-warn'; status.textContent = '请填写实收金额,如 31.80'; return; }
        body.cash_collected = cents;
        if (cents !== d.cod_amount) {  // a typo here is only found at the store's count: ask while the customer is there
          SL.confirm('实收 ' + SL.yuan(cents) + ' 与应收 ' + SL.yuan(d.cod_amount) + ' 不一致,差额将在回店清点时核对。确认按实收提交?',
                     {ok: '按实收提交', cancel: '再核对'}).then(function (yes) {
            if (yes) submit(order, 'delivered', body, go, status, '已签收'); else cash.focus();
          });
          return;
        }
      }
      submit(order, 'delivered', body, go, status, '已签收');
    });
  }

  function openReject(order) {
    var reason = el('select', {id: 'reject-reason'}, REASONS.map(function (r) { return el('option', {value: r, text: r}); }));
    var other = el('input', {id: 'reject-other', maxlength: 100, placeholder: '其他原因(选填)'});
    var status = el('div', {class: 'staff-status', hidden: true});
    var go = el('button', {type: 'button', class: 'weui-btn weui-btn_warn staff-wide', id: 'reject-confirm', text: '确认拒签'});
    sheet.open('登记拒签 ' + Staff.shortNo(order.number), [
      el('div', {class: 'staff-field'}, [el('label', {text: '原因'}), reason]),
      el('div', {class: 'staff-field'}, [el('label', {text: '补充'}), other]),
      el('div', {class: 'sl-muted', text: '请将货物带回门店,由店员入库'}), status, go]);
    go.addEventListener('click', function () {
      var text = other.value.trim() ? reason.value + ':' + other.value.trim() : reason.value;
      submit(order, 'rejected', {reason: text}, go, status, '已登记拒签');
    });
  }

  function submit(order, outcome, body, button, status, done) {
    button.disabled = true;
    SL.api('POST', '/courier/deliveries/' + order.id + '/' + outcome, body, {quiet: true}).then(function () {
      sheet.close();
      SL.toast(done);
      load();
    }, function (err) {
      button.disabled = false;
      status.hidden = false;
      status.className = 'staff-status is-warn';
      status.textContent = SL.politeMessage(err);
    });
  }

  start();
})();
