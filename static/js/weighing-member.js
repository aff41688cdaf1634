/* The member's view of an order's re-weighing (称重补退): each weighed line's ordered and weighed weight,
 * the difference and how it was settled, and the top-up to pay (live: refreshed on /member order.status).
 * Used by the mall's order page:  container.appendChild(SL.weighingCard(orderId, socket, {paymentMethod}))
 * (socket: the page's SL.socket('/member'), optional; paymentMethod names what is still owed: 'cod' or
 * 'at_store'). Built on SL (api.js). */
(function () {
  'use strict';
  var el = SL.el;

  var DUE_LABELS = {cod: '货到付款应付', at_store: '到店付款应付'};

  function weighingCard(orderId, socket, options) {
    var dueLabel = DUE_LABELS[(options || {}).paymentMethod] || '尚需支付';
    var card = el('div', {class: 'rw-member', id: 'rw-member', hidden: true});
    function refresh() {
      SL.api('GET', '/orders/' + orderId + '/weighings', null, {quiet: true}).then(function (s) {
        render(card, s, orderId, dueLabel);
      }, function () { card.hidden = true; });
    }
    if (socket) {
      socket.on('order.status', function (p) { if (p && Number(p.order_id) === Number(orderId)) refresh(); });
    }
    refresh();
    card.refresh = refresh;
    return card;
  }

  function render(card, s, orderId, dueLabel) {
    var weighed = s.lines.filter(function (l) { return l.weighing; });
    card.hidden = !weighed.length;
    if (!weighed.length) return;
    var rows = weighed.map(function (line) {
      var w = line.weighing;
      var how = w.difference === 0 ? '无需补退' : w.status === 'awaiting_payment' ? '待补款' :
        w.status === 'open' ? '门店处理中' : w.settlement_label;
      if (w.added_goods && w.added_goods.length) how += ':' + w.added_goods.map(function (g) { return g.name + '×' + g.qty; }).join('、');
      var diff = w.difference === 0 ? '' : (w.difference < 0 ? ' 退 ' : ' 补 ') + SL.yuan(Math.abs(w.difference));
      return el('div', {class: 'rw-member__row'}, [
        el('span', {text: line.name + ' 应 ' + line.expected_g + 'g / 实 ' + w.weight_g + 'g'}),
        el('span', {text: how + diff})
      ]);
    });
    var children = [el('div', {class: 'rw-member__title', text: '称重补退(多退少补)'})].concat(rows);
    var t = s.totals;
    if (t.refunded) children.push(el('div', {class: 'rw-member__row'}, [el('span', {text: '已原路退款'}), el('span', {text: SL.yuan(t.refunded)})]));
    if (t.collected) children.push(el('div', {class: 'rw-member__row'}, [el('span', {text: '已补款'}), el('span', {text: SL.yuan(t.collected)})]));
    if (s.amount_due !== null && s.amount_due !== undefined) {
      children.push(el('div', {class: 'rw-member__row'}, [el('span', {text: dueLabel}), el('span', {text: SL.yuan(s.amount_due)})]));
    }
    if (s.topup_due > 0) {
      var pay = el('button', {type: 'button', class: 'weui-btn weui-btn_warn', id: 'rw-topup-pay',
                              text: '补款 ' + SL.yuan(s.topup_due)});
      pay.addEventListener('click', function () {
        pay.disabled = true;
        SL.api('POST', '/orders/' + orderId + '/topup').then(function (p) { window.location.href = p.pay_url; },
                                                               function () { pay.disabled = false; });
      });
      children.push(el('div', {class: 'rw-member__topup'}, [
        el('div', {class: 'sl-muted', text: '商品实称比下单时重,需补差价后提货'}), pay]));
    }
    card.replaceChildren.apply(card, children);
  }

  SL.weighingCard = weighingCard;
})();
