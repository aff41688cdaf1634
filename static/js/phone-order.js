/* 电话下单 (400 客服) on /hq: HQ takes an order for a caller (POST /api/v1/hq/orders). The server finds
 * the caller by mobile number; a caller who is no member pays on handing over, so online payment is offered
 * as the member's option only and the server's answer says whose order it became. Built on SL (api.js,
 * regions.js). SL.phoneOrder.start() once HQ is logged in. */
(function () {
  'use strict';
  var el = SL.el;
  var PAYMENTS = {
    pickup: [['at_store', '到店付款(自提时付)'], ['online', '会员在线支付(客户在商城付款)']],
    store_delivery: [['cod', '货到付款'], ['online', '会员在线支付(客户在商城付款)']]
  };
  var form = {lines: [], products: {}, picker: null, started: false};

  function $(id) { return document.getElementById(id); }

  function start() {
    if (form.started) return;
    form.started = true;
    SL.api('GET', '/stores?kind=store').then(function (data) {
      var select = $('po-store');
      data.stores.forEach(function (s) { select.appendChild(el('option', {value: s.id, text: s.name})); });
    });
    SL.api('GET', '/products').then(function (data) {
      var select = $('po-sku');
      select.appendChild(el('option', {value: '', text: '选择商品'}));
      data.products.forEach(function (p) {
        form.products[p.sku] = p;
        select.appendChild(el('option', {value: p.sku, text: p.name + ' ' + SL.yuan(p.price) + '/' + p.unit}));
      });
    });
    form.picker = SL.regionPicker(function () {});
    $('po-regions').appendChild(form.picker.node);
    methodChanged();
  }

  function methodChanged() {
    var method = $('po-method').value;
    $('po-store-cell').hidden = method !== 'pickup';
    $('po-address').hidden = method === 'pickup';
    var payment = $('po-payment');
    payment.innerHTML = '';
    PAYMENTS[method].forEach(function (p) { payment.appendChild(el('option', {value: p[0], text: p[1]})); });
  }

  function addLine() {
    var sku = $('po-sku').value, qty = parseInt($('po-qty').value, 10);
    if (!sku) { error('请选择商品'); return; }
    if (!(qty >= 1 && qty <= 999)) { error('数量须在 1 到 999 之间'); return; }
    error('');
    var line = form.lines.filter(function (l) { return l.sku === sku; })[0];
    if (line) line.qty = Math.min(999, line.qty + qty); else form.lines.push({sku: sku, qty: qty});
    $('po-qty').value = 1;
    renderLines();
  }

  function renderLines() {
    var box = $('po-lines');
    box.innerHTML = '';
    var total = 0;
    form.lines.forEach(function (line, i) {
      var p = form.products[line.sku];
      total += p.price * line.qty;
      box.appendChild(el('div', {class: 'hq-po-line', dataset: {sku: line.sku}}, [
        el('span', {text: p.name}), el('span', {text: '× ' + line.qty}), el('span', {text: SL.yuan(p.price * line.qty)}),
        el('button', {type: 'button', class: 'weui-btn weui-btn_mini weui-btn_default', onclick: function () {
          form.lines.splice(i, 1);
          renderLines();
        }}, '删除')]));
    });
    if (form.lines.length) box.appendChild(el('div', {class: 'hq-po-total', id: 'po-total'}, '商品合计 ' + SL.yuan(total)));
  }

  function error(text) { $('po-error').textContent = text; }

  /** The order body, or null after saying what is missing (the server checks everything again). */
  function body() {
    var phone = $('po-phone').value.trim(), method = $('po-method').value;
    if (!/^1[3-9]\d{9}$/.test(phone)) { error('请输入来电客户正确的 11 位手机号'); $('po-phone').focus(); return null; }
    if (!form.lines.length) { error('请至少添加一件商品'); return null; }
    var order = {caller_phone: phone, contact_name: $('po-name').value.trim(), fulfilment: method,
                 payment: $('po-payment').value, note: $('po-note').value.trim(),
                 items: form.lines.map(function (l) { return {sku: l.sku, qty: l.qty}; })};
    if (method === 'pickup') {
      order.store_id = Number($('po-store').value);
    } else {
      var address = form.picker.value(), detail = $('po-detail').value.trim();
      if (!address) { error('请选择完整的省、市、区县和街道'); return null; }
      if (!detail) { error('请填写详细地址'); $('po-detail').focus(); return null; }
      address.detail = detail;
      order.address = address;
    }
    return order;
  }

  function submit(event) {
    event.preventDefault();
    error('');
    var order = body();
    if (!order) return;
    var button = $('po-submit');
    button.disabled = true;
    SL.api('POST', '/hq/orders', order, {quiet: true}).then(function (placed) {
      form.lines = [];
      renderLines();
      $('po-note').value = '';
      var result = $('po-result');
      result.innerHTML = '';
      result.appendChild(el('div', {}, [el('strong', {}, '已下单 '), el('span', {id: 'po-number'}, placed.number)]));
      result.appendChild(el('div', {text: (placed.caller_is_member ? '会员订单,已进入客户的「我的订单」' : '非会员订单') +
                                          ' · ' + placed.routing_reason + ' · 合计 ' + SL.yuan(placed.total)}));
      if (placed.payment_status === 'unpaid' && placed.payment_method === 'online') {
        result.appendChild(el('div', {text: '请提醒客户在商城「我的订单」中完成支付'}));
      }
      result.hidden = false;
    }, function (err) {
      error(SL.politeMessage(err));
    }).then(function () { button.disabled = false; });
  }

  $('po-method').addEventListener('change', methodChanged);
  $('po-add').addEventListener('click', addLine);
  $('po-form').addEventListener('submit', submit);
  SL.phoneOrder = {start: start};
})();
