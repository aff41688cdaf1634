/* The sales daily report (销售日报) of GET /clerk/day-end or /hq/day-ends as page nodes, shared by the clerk
 * centre's 日结 and the back office: status, totals and the tallies by channel, payment method and route. */
(function () {
  'use strict';
  var SL = window.SL, el = SL.el;

  var CHANNEL = {mall: '线上商城', pos: '门店POS', platform: '第三方平台', phone: '电话订单'};
  var PAYMENT_METHOD = {online: '在线支付', at_store: '到店付款', cod: '货到付款', platform: '平台代收'};
  var PAYMENT_ROUTE = {online: '在线支付', store_cash: '门店现金', store_card: '门店刷卡', cod_cash: '货到付款现金'};
  var REFUND_ROUTE = {original: '原路退回', at_store: '门店退款'};
  var PAID_OUT = {cash: '柜台现金退还', card: '柜台刷卡退还'};

  function signed(cents) { return (cents < 0 ? '-' : '') + SL.yuan(Math.abs(cents)); }

  function row(label, value, id) {
    return el('div', {class: 'sl-kv', id: id || null}, [el('span', {text: label}), el('span', {text: value})]);
  }

  function tally(title, counts, labels, unit) {
    var keys = Object.keys(counts).filter(function (k) { return counts[k].count; });
    if (!keys.length) return [];
    return [el('div', {class: 'sl-kv-title', text: title})].concat(keys.map(function (k) {
      return row(labels[k] || k, counts[k].count + unit + ' · ' + SL.yuan(counts[k].amount));
    }));
  }

  function statusText(r) {
    if (r.status === 'closed') return '已日结 · ' + SL.when(r.closed_at) + ' ' + (r.closed_by || '');
    return r.ended ? '营业日已结束,待日结' : '营业中(实时数据)';
  }

  /** The report's nodes; `prefix` names their ids (prefix-status, prefix-sales, prefix-net). */
  function nodes(r, prefix) {
    return [
      el('div', {class: 'sl-kv-status' + (r.status === 'closed' ? ' is-closed' : ''), id: prefix + '-status', text: statusText(r)}),
      row('销售', r.sales.count + ' 单 · ' + SL.yuan(r.sales.amount), prefix + '-sales'),
      row('收款', SL.yuan(r.payments.amount)),
      row('退款', SL.yuan(r.refunds.amount)),
      row('净收入', signed(r.net_takings), prefix + '-net'),
      row('钱箱现金', signed(r.drawer_cash))
    ].concat(tally('销售 · 按渠道', r.sales.by_channel, CHANNEL, ' 单'),
             tally('销售 · 按支付方式', r.sales.by_payment_method, PAYMENT_METHOD, ' 单'),
             tally('收款方式', r.payments.by_route, PAYMENT_ROUTE, ' 笔'),
             tally('退款去向', r.refunds.by_route, REFUND_ROUTE, ' 笔'),
             tally('柜台退款', r.refunds.paid_out, PAID_OUT, ' 笔'));
  }

  function chinaToday(daysBack) {
    return new Date(Date.now() + 8 * 3600 * 1000 - (daysBack || 0) * 86400 * 1000).toISOString().slice(0, 10);
  }

  var CLOSE_WARNING = '日结后该营业日的日报不可更改,之后发生的退款等计入下一个营业日。确认日结?';

  SL.dayEndReport = {nodes: nodes, chinaToday: chinaToday, signed: signed, CLOSE_WARNING: CLOSE_WARNING};
})();
