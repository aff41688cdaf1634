/* 店员中心: the store's open orders by what they need, live over Socket.IO (sound + badge, catch-up after a
 * drop via last_event_id), pickup verification by camera (jsQR over getUserMedia) or typed code, shipping,
 * and the check-back of deliveries (回店校验). HQ staff see escalated orders of every store. */
(function () {
  'use strict';
  var SL = window.SL, Staff = window.Staff, el = SL.el;

  var TABS = [
    {key: 'awaiting_acceptance', label: '待接单'},
    {key: 'accepted', label: '待备货'},
    {key: 'ready_for_pickup', label: '待提货'},
    {key: 'ready_to_ship', label: '待发货'},
    {key: 'shipped', label: '配送中'},
    {key: 'check_back', label: '回店校验'},
    {key: 'refunds', label: '待退款'},
    {key: 'returns', label: '退货'}
  ];
  var state = {
    me: null, orders: [], counts: {}, checkBack: [], refunds: {owed: [], paid_out: []}, returns: {to_receive: [], received: []}, tab: 'awaiting_acceptance', lastEventId: 0,
    seen: {}, pending: {}, unseen: 0, fresh: {}, escalated: {}, socket: null, refreshTimer: null
  };
  var sheet = new Staff.Sheet('clerk');
  var $ = function (id) { return document.getElementById(id); };

  // ---- start, login ------------------------------------------------------------------------
  function start() {
    SL.onUnauthorized(showLogin);
    $('clerk-logout').addEventListener('click', function () {
      SL.logout();
      if (state.socket) state.socket.disconnect();
      location.reload();
    });
    $('clerk-scan').addEventListener('click', openScanner);
    $('clerk-shift').addEventListener('click', function () { window.ClerkBooks.openShift(sheet); });
    $('clerk-dayend').addEventListener('click', function () { window.ClerkBooks.openDayEnd(sheet); });
    SL.whoAmI().then(function (me) {
      if (!me) return showLogin();
      enter(me);
    }, function () { showLogin(); });
  }

  function showLogin() {
    if (state.socket) { state.socket.disconnect(); state.socket = null; }
    $('clerk-logout').hidden = true;
    $('clerk-user').textContent = '';
    SL.loginForm({account: 'username', title: '店员中心登录', hint: '使用门店分配的店员账号登录'}).then(function (me) {
      enter(me);
    });
  }

  function enter(me) {
    if (me.role !== 'clerk' && me.role !== 'hq') {
      SL.logout();
      SL.showError('该账号不是店员账号,请使用店员账号登录');
      return showLogin();
    }
    state.me = me;
    $('clerk-user').textContent = me.name || '';
    $('clerk-logout').hidden = false;
    if (me.role === 'hq') return enterHq();
    $('clerk-scanbar').hidden = false;
    $('clerk-tabs').hidden = false;
    loadFirst();
    resumePickup();
  }

  /** The first load says it is loading, and when it fails says so with a way to try again (live pushes
   *  start only once the list is there, so a silent failure would leave the clerk hearing nothing). */
  function loadFirst() {
    var list = $('clerk-list');
    list.innerHTML = '';
    list.appendChild(el('div', {class: 'staff-empty', id: 'clerk-loading', text: '加载中…'}));
    refresh().then(connect, function (err) {
      list.innerHTML = '';
      list.appendChild(el('div', {class: 'staff-empty', id: 'clerk-load-failed'}, [
        el('p', {text: '订单加载失败,请检查网络后重试', title: SL.politeMessage(err), style: 'margin-bottom:12px'}),
        el('button', {type: 'button', class: 'weui-btn weui-btn_mini weui-btn_primary', id: 'clerk-retry', onclick: loadFirst}, '重试')
      ]));
    });
  }

  // ---- data --------------------------------------------------------------------------------
  function refresh() {
    return Promise.all([
      SL.api('GET', '/clerk/orders'),
      SL.api('GET', '/clerk/deliveries', null, {quiet: true}).catch(function () { return {deliveries: []}; }),
      SL.api('GET', '/clerk/refunds', null, {quiet: true}).catch(function () { return {owed: [], paid_out: []}; }),
      SL.api('GET', '/clerk/returns', null, {quiet: true}).catch(function () { return {to_receive: [], received: []}; })
    ]).then(function (answers) {
      state.returns = answers[3];
      state.orders = answers[0].orders;
      state.counts = answers[0].counts;
      state.checkBack = answers[1].deliveries;
      state.refunds = answers[2];
      if (!state.heard) state.lastEventId = answers[0].last_event_id;  // until a push arrives
      announceNew();
      render();
    });
  }

  function announceNew() {
    var arrived = [];
    state.orders.forEach(function (o) {
      if (!state.pending[o.id]) return;
      delete state.pending[o.id];  // ids the list does not show yet stay pending (a fetch begun before the push)
      if (o.status === 'awaiting_acceptance') arrived.push(o);
    });
    if (!arrived.length) return;
    arrived.forEach(function (o) { state.fresh[o.id] = true; });
    state.unseen += arrived.length;
    Staff.chime(false);
  }

  function refreshSoon() {
    clearTimeout(state.refreshTimer);
    state.refreshTimer = setTimeout(function () { refresh().catch(function () {}); }, 250);
  }

  // ---- live --------------------------------------------------------------------------------
  function connect() {
    if (state.socket) return;
    var socket = state.socket = SL.socket('/clerk', {lastEventId: function () { return state.lastEventId; }});
    socket.on('connect', function () { $('clerk-online').classList.add('is-on'); refreshSoon(); });
    socket.on('disconnect', function () { $('clerk-online').classList.remove('is-on'); });
    socket.on('order.new', function (data) {
      if (!firstTime('new', data)) return;
      // Announced once the refreshed list shows it still waiting: a replay after a reconnect may repeat
      // an order the list already had, or one another clerk has accepted meanwhile.
      if (!state.orders.some(function (o) { return o.id === data.order_id; })) state.pending[data.order_id] = true;
      refreshSoon();
    });
    socket.on('order.status', function (data) {
      if (firstTime('status', data)) refreshSoon();
    });
    socket.on('order.escalated', function (data) {
      if (!firstTime('escalated', data)) return;
      state.escalated[data.order_id] = true;
      Staff.chime(true);
      // A replay after a reconnect carries no waiting time: "超过 0 分钟" would read as nothing to worry about.
      var minutes = Math.floor((data.waited_seconds || 0) / 60);
      showAlert((minutes ? '有订单超过 ' + minutes + ' 分钟未接单' : '有订单超时未接单') + ',请立即处理!', true);
      refreshSoon();
    });
  }

  /** Each pushed event is handled once, though a reconnect may replay it; the id of the last one received
   *  is where a reconnect resumes (the last, not the largest: ids follow insertion, pushes commit order). */
  function firstTime(kind, data) {
    var id = data && data.event_id;
    if (!id) return true;
    state.lastEventId = id;
    state.heard = true;
    var key = kind + ':' + id;
    if (state.seen[key]) return false;
    state.seen[key] = true;
    return true;
  }

  function showAlert(text, loud) {
    var box = $('clerk-alert');
    box.textContent = text;
    box.classList.toggle('is-loud', !!loud);
    box.hidden = false;
    box.onclick = function () { box.hidden = true; };
  }

  // ---- lists -------------------------------------------------------------------------------
  function render() {
    renderTabs();
    var list = $('clerk-list');
    list.innerHTML = '';
    if (state.tab === 'refunds') {
      renderRefunds(list);
    } else if (state.tab === 'returns') {
      renderReturns(list);
    } else {
      var items = state.tab === 'check_back' ? state.checkBack
        : state.orders.filter(function (o) { return o.status === state.tab; });
      if (!items.length) {
        list.appendChild(el('div', {class: 'staff-empty', text: '暂无' + tabLabel(state.tab) + '订单'}));
      }
      items.forEach(function (order) {
        list.appendChild(state.tab === 'check_back' ? checkBackCard(order) : orderCard(order));
      });
    }
    var badge = state.unseen ? '(' + state.unseen + ') ' : '';
    document.title = badge + '店员中心';
  }

  function tabLabel(key) {
    return TABS.filter(function (t) { return t.key === key; })[0].label;
  }

  function renderTabs() {
    var nav = $('clerk-tabs');
    nav.innerHTML = '';
    TABS.forEach(function (tab) {
      var count = tab.key === 'check_back' ? state.checkBack.length
        : tab.key === 'refunds' ? state.refunds.owed.length
        : tab.key === 'returns' ? state.returns.to_receive.length : (state.counts[tab.key] || 0);
      var button = el('button', {type: 'button', class: 'staff-tab' + (state.tab === tab.key ? ' is-active' : ''),
                                 dataset: {tab: tab.key}, id: 'tab-' + tab.key,
                                 onclick: function () { chooseTab(tab.key); }},
                      [tab.label, el('span', {class: 'staff-tab__count', text: count})]);
      if (tab.key === 'awaiting_acceptance' && state.unseen) {
        button.appendChild(el('span', {class: 'weui-badge', id: 'clerk-badge', text: state.unseen}));
      }
      nav.appendChild(button);
    });
  }

  function chooseTab(key) {
    state.tab = key;
    if (key === 'awaiting_acceptance') state.unseen = 0;
    render();
  }

  function orderCard(order) {
    var delivery = order.fulfilment !== 'pickup';
    var card = el('div', {class: 'staff-card' + (state.fresh[order.id] ? ' is-new' : '') +
                               (state.escalated[order.id] ? ' is-escalated' : ''),
                          dataset: {orderId: order.id}}, [
      el('div', {class: 'staff-card__head'}, [
        el('span', {class: 'staff-card__no', text: Staff.shortNo(order.number) + ' · ' + Staff.when(order.created_at)}),
        el('span', {class: 'staff-card__tags'}, [
          // A delivery platform's order (美团 / 饿了么): its rider collects it from the store.
          order.platform ? el('span', {class: 'staff-card__tag is-platform is-' + order.platform.name, text: order.platform.label}) : null,
          el('span', {class: 'staff-card__tag' + (delivery ? ' is-delivery' : ''),
                      text: order.platform ? '骑手取货' : Staff.FULFILMENT[order.fulfilment]})
        ])
      ]),
      el('div', {class: 'staff-card__lines', text: Staff.linesText(order.lines)}),
      delivery ? el('div', {class: 'staff-card__meta', text: (order.contact_name || '') + ' ' +
                                                             Staff.addressText(order.address)}) : null,
      order.delivery ? el('div', {class: 'staff-card__meta', text: deliveryText(order.delivery)}) : null,
      el('div', {class: 'staff-card__meta'}, [
        '合计 ', el('span', {class: 'staff-card__money', text: SL.yuan(order.total)}),
        order.payment_method === 'cod' ? '(货到付款)' : order.payment_method === 'platform' ? '(平台已收款)' :
          order.payment_status === 'paid' ? '(已支付)' : '(到店付款)'
      ]),
      order.platform ? el('div', {class: 'staff-card__meta', text: order.platform.label + '订单号 ' + order.platform.order_id}) : null,
      order.note ? el('div', {class: 'staff-card__meta', text: '备注:' + order.note}) : null,
      el('div', {class: 'staff-card__actions'}, actionsFor(order))
    ]);
    return card;
  }

  function deliveryText(d) {
    return d.mode === 'carrier' ? '快递 ' + d.carrier + ' ' + d.tracking_no : '配送员:' + (d.courier_name || '');
  }

  function actionsFor(order) {
    var button = function (text, cls, fn, id) {
      return el('button', {type: 'button', class: 'weui-btn weui-btn_mini ' + cls, text: text, id: id, onclick: fn});
    };
    if (order.status === 'awaiting_acceptance') {
      return [button('接单', 'weui-btn_primary', function () { act(order, 'accept', '已接单'); }, 'accept-' + order.id)];
    }
    if (order.status === 'accepted') {
      return [button('备货完成', 'weui-btn_primary', function () { act(order, 'ready', '备货完成'); }, 'ready-' + order.id)];
    }
    if (order.status === 'ready_to_ship') {
      return [button(order.platform ? '交骑手' : '发货', 'weui-btn_primary', function () { openShip(order); }, 'ship-' + order.id)];
    }
    if (order.status === 'ready_for_pickup') {
      return [el('span', {class: 'sl-muted', text: '等待会员到店出示提货码'})];
    }
    return [];
  }

  function act(order, action, done) {
    SL.api('POST', '/clerk/orders/' + order.id + '/' + action, {}).then(function () {
      delete state.fresh[order.id];
      delete state.escalated[order.id];
      SL.toast(done);
      refresh();
    }, function () { refresh(); });
  }

  // ---- shipping ----------------------------------------------------------------------------
  // Fresh goods sold per piece are re-weighed (多退少补) before they leave: a link to the re-weigh screen.
  // From a pickup (`code` given), the way back from the re-weigh screen reopens that pickup.
  function reweighLink(orderId, lines, code) {
    var weighed = (lines || []).some(function (l) { return l.price_per_kg; });
    return weighed ? el('a', {href: '/clerk/orders/' + orderId + '/reweigh', id: 'reweigh-link',
                              class: 'weui-btn weui-btn_default staff-wide', text: '称重补退',
                              onclick: code ? function () { rememberPickup(code); } : null}) : null;
  }

  // The re-weigh screen is a page of its own: the pickup the clerk left for it opens again on the way
  // back, without asking the member for the code a second time (this browser tab, within half an hour).
  var RESUME_KEY = 'storelink.clerk.pickup-in-progress';
  function rememberPickup(code) {
    try { sessionStorage.setItem(RESUME_KEY, JSON.stringify({code: code, at: Date.now()})); } catch (e) { /* no resume */ }
  }
  function resumePickup() {
    var saved = null;
    try {
      saved = JSON.parse(sessionStorage.getItem(RESUME_KEY) || 'null');
      sessionStorage.removeItem(RESUME_KEY);
    } catch (e) { saved = null; }
    if (!saved || !saved.code || !(Date.now() - saved.at < 30 * 60 * 1000)) return;
    var status = el('div', {class: 'staff-status', id: 'scan-status'});
    sheet.open('提货核销', [status]);
    preview(saved.code, status);
  }

  function openShip(order) {
    if (order.platform) { openRiderHandOver(order); return; }
    var courier = el('select', {id: 'ship-courier'}, [el('option', {value: '', text: '加载中…'})]);
    var carrier = el('input', {id: 'ship-carrier', placeholder: '快递公司,如 顺丰', maxlength: 32});
    var tracking = el('input', {id: 'ship-tracking', placeholder: '运单号', maxlength: 64});
    var byStaff = el('input', {type: 'radio', name: 'ship-mode', value: 'staff', id: 'ship-mode-staff', checked: true});
    var byCarrier = el('input', {type: 'radio', name: 'ship-mode', value: 'carrier', id: 'ship-mode-carrier'});
    var staffFields = el('div', {}, el('div', {class: 'staff-field'}, [el('label', {text: '配送员'}), courier]));
    var carrierFields = el('div', {hidden: true}, [
      el('div', {class: 'staff-field'}, [el('label', {text: '快递公司'}), carrier]),
      el('div', {class: 'staff-field'}, [el('label', {text: '运单号'}), tracking])]);
    var switchMode = function () {
      staffFields.hidden = !byStaff.checked;
      carrierFields.hidden = byStaff.checked;
    };
    byStaff.addEventListener('change', switchMode);
    byCarrier.addEventListener('change', switchMode);
    var status = el('div', {class: 'staff-status', hidden: true});
    var submit = el('button', {type: 'button', class: 'weui-btn weui-btn_primary staff-wide', id: 'ship-submit', text: '确认发货'});
    sheet.open('发货 ' + Staff.shortNo(order.number), [
      Staff.kv('收货人', (order.contact_name || '') + ' ' + (order.contact_phone || '')),
      Staff.kv('地址', Staff.addressText(order.address)),
      el('div', {class: 'staff-choice'}, [el('label', {}, [byStaff, '门店自配送']), el('label', {}, [byCarrier, '快递发货'])]),
      staffFields, carrierFields, reweighLink(order.id, order.lines), status, submit]);
    SL.api('GET', '/clerk/couriers').then(function (data) {
      courier.innerHTML = '';
      courier.appendChild(el('option', {value: '', text: '我自己配送'}));
      data.couriers.forEach(function (c) { courier.appendChild(el('option', {value: c.id, text: c.name})); });
      if (data.couriers.length) courier.value = String(data.couriers[0].id);
    });
    submit.addEventListener('click', function () {
      var body = {};
      if (byCarrier.checked) {
        if (!carrier.value.trim() || !tracking.value.trim()) {
          status.hidden = false; status.className = 'staff-status is-warn'; status.textContent = '请填写快递公司和运单号';
          return;
        }
        body = {carrier: carrier.value.trim(), tracking_no: tracking.value.trim()};
      } else if (courier.value) {
        body = {courier_id: Number(courier.value)};
      }
      submit.disabled = true;
      SL.api('POST', '/clerk/orders/' + order.id + '/ship', body, {quiet: true}).then(function () {
        sheet.close();
        SL.toast('已发货');
        refresh();
      }, function (err) {
        submit.disabled = false;
        status.hidden = false; status.className = 'staff-status is-warn'; status.textContent = SL.politeMessage(err);
      });
    });
  }

  /** A delivery platform's order leaves with the platform's rider: nothing to choose, the server records
   *  the hand-over under the platform's order number. */
  function openRiderHandOver(order) {
    var status = el('div', {class: 'staff-status', hidden: true});
    var submit = el('button', {type: 'button', class: 'weui-btn weui-btn_primary staff-wide', id: 'ship-submit',
                               text: '已交给' + order.platform.label + '骑手'});
    sheet.open('骑手取货 ' + Staff.shortNo(order.number), [
      Staff.kv('平台订单号', order.platform.label + ' ' + order.platform.order_id),
      Staff.kv('收货人', (order.contact_name || '') + ' ' + (order.contact_phone || '')),
      reweighLink(order.id, order.lines), status, submit]);
    submit.addEventListener('click', function () {
      submit.disabled = true;
      SL.api('POST', '/clerk/orders/' + order.id + '/ship', {}, {quiet: true}).then(function () {
        sheet.close();
        SL.toast('已交骑手');
        refresh();
      }, function (err) {
        submit.disabled = false;
        status.hidden = false; status.className = 'staff-status is-warn'; status.textContent = SL.politeMessage(err);
      });
    });
  }

  // ---- 门店退款: money taken at the store (到店付款, 货到付款) is refunded over the counter ---------------
  var PAYOUT = {cash: '现金', card: '刷卡'};
  var PAID_WITH = {store_cash: '到店付款 · 现金', store_card: '到店付款 · 刷卡', cod_cash: '货到付款 · 现金'};

  function renderRefunds(list) {
    if (!state.refunds.owed.length) list.appendChild(el('div', {class: 'staff-empty', text: '暂无待退款'}));
    state.refunds.owed.forEach(function (r) { list.appendChild(refundCard(r)); });
    if (state.refunds.paid_out.length) {
      list.appendChild(el('div', {class: 'staff-section', text: '最近已退款'}));
      state.refunds.paid_out.forEach(function (r) {
        list.appendChild(el('div', {class: 'staff-card is-done', dataset: {refundId: r.id}}, [
          el('div', {class: 'staff-card__head'}, [
            el('span', {class: 'staff-card__no', text: Staff.shortNo(r.order_number)}),
            el('span', {class: 'staff-card__money', text: SL.yuan(r.amount)})]),
          el('div', {class: 'staff-card__meta', text: Staff.when(r.done_at) + ' ' + (r.paid_out_by || '') + ' ' +
                                                      (PAYOUT[r.payout_method] || '') + '退还'})]));
      });
    }
  }

  function refundCard(r) {
    var pay = function (method) {
      return el('button', {type: 'button', class: 'weui-btn weui-btn_mini ' + (method === 'cash' ? 'weui-btn_primary' : 'weui-btn_default'),
                           id: 'payout-' + method + '-' + r.id, text: PAYOUT[method] + '退还',
                           onclick: function (e) { payOut(r, method, e.target); }});
    };
    return el('div', {class: 'staff-card', dataset: {refundId: r.id}}, [
      el('div', {class: 'staff-card__head'}, [
        el('span', {class: 'staff-card__no', text: Staff.shortNo(r.order_number) + ' · ' + Staff.when(r.created_at)}),
        el('span', {class: 'staff-card__tag', text: PAID_WITH[r.paid_with] || '门店收款'})]),
      el('div', {class: 'staff-card__meta'}, ['应退 ', el('span', {class: 'staff-card__money', text: SL.yuan(r.amount)}),
                                              ' · ' + (r.reason || '')]),
      r.member.name || r.member.phone ? el('div', {class: 'staff-card__meta', text: '会员:' + r.member.name + ' ' + r.member.phone}) : null,
      el('div', {class: 'staff-card__actions'}, [pay('cash'), pay('card')])
    ]);
  }

  function payOut(r, method, button) {
    SL.confirm('确认已' + PAYOUT[method] + '退还 ' + SL.yuan(r.amount) + ' 给会员?', {ok: '已退还'}).then(function (yes) {
      if (!yes) return;
      button.disabled = true;
      SL.api('POST', '/clerk/refunds/' + r.id + '/pay-out', {method: method}).then(function () {
        SL.toast('已登记退款');
        refresh();
      }, function () { button.disabled = false; refresh(); });
    });
  }

  // ---- 退货 (电商退货): approved returns coming back to this store; receiving restocks and refunds -------
  function renderReturns(list) {
    if (!state.returns.to_receive.length) list.appendChild(el('div', {class: 'staff-empty', text: '暂无待收货的退货'}));
    state.returns.to_receive.forEach(function (r) { list.appendChild(returnCard(r)); });
    if (state.returns.received.length) {
      list.appendChild(el('div', {class: 'staff-section', text: '最近已收货'}));
      state.returns.received.forEach(function (r) {
        list.appendChild(el('div', {class: 'staff-card is-done', dataset: {returnId: r.id}}, [
          el('div', {class: 'staff-card__head'}, [
            el('span', {class: 'staff-card__no', text: Staff.shortNo(r.order_number)}),
            el('span', {class: 'staff-card__money', text: SL.yuan(r.amount)})]),
          el('div', {class: 'staff-card__meta', text: returnedGoods(r)}),
          el('div', {class: 'staff-card__meta', text: Staff.when(r.received_at) + ' ' + (r.received_by || '') + ' 收货入库'})]));
      });
    }
  }

  function returnedGoods(r) {
    return r.lines.map(function (l) { return l.name + ' ×' + l.qty; }).join(',');
  }

  function returnCard(r) {
    return el('div', {class: 'staff-card', dataset: {returnId: r.id}}, [
      el('div', {class: 'staff-card__head'}, [
        el('span', {class: 'staff-card__no', text: Staff.shortNo(r.order_number) + ' · 退货单 ' + r.id}),
        el('span', {class: 'staff-card__tag', text: r.status === 'shipped' ? '快递寄回' : '到店退货'})]),
      el('div', {class: 'staff-card__meta', text: returnedGoods(r)}),
      el('div', {class: 'staff-card__meta'}, ['退款 ', el('span', {class: 'staff-card__money', text: SL.yuan(r.amount)}),
                                              r.refund_route === 'store' ? ' · 现场退还现金/刷卡' : ' · 原路退回']),
      el('div', {class: 'staff-card__meta', text: '原因:' + r.reason_label + (r.note ? '(' + r.note + ')' : '')}),
      r.tracking_no ? el('div', {class: 'staff-card__meta', text: '快递:' + r.carrier + ' ' + r.tracking_no}) : null,
      el('div', {class: 'staff-card__meta', text: '会员:' + r.member.name + ' ' + r.member.phone}),
      el('div', {class: 'staff-card__actions'}, el('button', {
        type: 'button', class: 'weui-btn weui-btn_mini weui-btn_primary', id: 'receive-' + r.id, text: '核对商品,确认收货',
        onclick: function (e) { receiveReturn(r, e.target); }}))
    ]);
  }

  function receiveReturn(r, button) {
    SL.confirm('商品已核对无误?确认后入库并退款 ' + SL.yuan(r.amount) + '。', {ok: '确认收货'}).then(function (yes) {
      if (!yes) return;
      button.disabled = true;
      SL.api('POST', '/clerk/returns/' + r.id + '/receive').then(function (done) {
        SL.toast(done.refund_route === 'store' ? '已入库,请到「待退款」退还' : '已入库,退款已原路退回');
        refresh();
      }, function () { button.disabled = false; refresh(); });
    });
  }

  // ---- 回店校验 ----------------------------------------------------------------------------
  function checkBackCard(order) {
    var d = order.delivery;
    var cod = d.status === 'delivered';
    var cash = el('input', {id: 'cash-' + order.id, inputmode: 'decimal', placeholder: '清点金额(元)',
                            value: cod && d.cash_collected != null ? (d.cash_collected / 100).toFixed(2) : ''});
    var go = el('button', {type: 'button', class: 'weui-btn weui-btn_mini weui-btn_primary', id: 'check-back-' + order.id,
                           text: cod ? '现金已清点' : '货物已退回,入库'});
    go.addEventListener('click', function () {
      var body = {};
      if (cod) {
        var counted = Staff.cents(cash.value);
        if (counted === null) { SL.showError('请填写清点的现金金额,如 31.80'); return; }
        body.cash_counted = counted;
      }
      go.disabled = true;
      SL.api('POST', '/clerk/deliveries/' + order.id + '/check-back', body).then(function (r) {
        var diff = r.delivery.cash_difference;
        SL.toast(cod ? (diff ? '已入账,差额 ' + SL.yuan(diff) : '已入账') : '已入库');
        refresh();
      }, function () { go.disabled = false; });
    });
    return el('div', {class: 'staff-card', dataset: {orderId: order.id}}, [
      el('div', {class: 'staff-card__head'}, [
        el('span', {class: 'staff-card__no', text: Staff.shortNo(order.number)}),
        el('span', {class: 'staff-card__tag is-delivery', text: cod ? '货到付款待清点' : '拒签待入库'})]),
      el('div', {class: 'staff-card__lines', text: Staff.linesText(order.lines)}),
      el('div', {class: 'staff-card__meta', text: deliveryText(d)}),
      cod ? el('div', {class: 'staff-card__meta', text: '应收 ' + SL.yuan(d.cod_amount) + ',配送员报收 ' +
                                                        SL.yuan(d.cash_collected)}) :
        el('div', {class: 'staff-card__meta', text: '拒签原因:' + (d.reject_reason || '')}),
      cod ? el('div', {class: 'staff-field'}, [cash, go]) : el('div', {class: 'staff-card__actions'}, [go])
    ]);
  }

  // ---- pickup: camera or typed code --------------------------------------------------------
  var camera = {stream: null, timer: null};

  function openScanner() {
    var video = el('video', {class: 'staff-video', id: 'scan-video', playsinline: true, muted: true, autoplay: true});
    var status = el('div', {class: 'staff-status', id: 'scan-status', text: '正在打开摄像头…'});
    var input = el('input', {id: 'pickup-code', inputmode: 'numeric', autocomplete: 'off', maxlength: 20,
                             placeholder: '输入 12 位提货码'});
    var lookup = el('button', {type: 'button', class: 'weui-btn weui-btn_mini weui-btn_primary', id: 'pickup-lookup', text: '查询'});
    var form = el('form', {class: 'staff-field', novalidate: true}, [input, lookup]);
    var submit = function (event) {
      if (event) event.preventDefault();
      var code = input.value.replace(/[\s-]/g, '');
      if (!/^\d{12}$/.test(code)) { setStatus(status, '提货码是 12 位数字,请核对后再输入', 'warn'); return; }
      preview(code, status);
    };
    form.addEventListener('submit', submit);
    lookup.addEventListener('click', submit);
    sheet.open('提货核销', [video, status, form]);
    sheet.onClose(stopCamera);
    startCamera(video, status);
  }

  function setStatus(box, text, kind) {
    box.textContent = text;
    box.className = 'staff-status' + (kind ? ' is-' + kind : '');
    box.hidden = false;
  }

  function noCamera(video, status, reason) {
    video.hidden = true;
    var https = window.isSecureContext ? '' : '(手机浏览器只允许 HTTPS 页面使用摄像头,请通过门店的 HTTPS 地址打开店员中心)';
    setStatus(status, '无法使用摄像头:' + reason + https + '。请在下方输入会员出示的 12 位提货码。', 'warn');
    status.id = 'scan-status';
    status.setAttribute('data-camera', 'unavailable');
    var input = document.getElementById('pickup-code');
    if (input) input.focus();
  }

  function startCamera(video, status) {
    if (typeof window.jsQR !== 'function') return noCamera(video, status, '扫码组件未加载');
    if (!window.isSecureContext || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      return noCamera(video, status, '当前连接不安全或浏览器不支持');
    }
    navigator.mediaDevices.getUserMedia({video: {facingMode: 'environment'}, audio: false}).then(function (stream) {
      if (!sheet.isOpen()) { stream.getTracks().forEach(function (t) { t.stop(); }); return; }
      camera.stream = stream;
      video.srcObject = stream;
      var played = video.play();
      if (played && played.catch) played.catch(function () {});
      setStatus(status, '请将会员的提货二维码对准摄像头');
      status.setAttribute('data-camera', 'on');
      scan(video, status);
    }, function (err) {
      var name = err && err.name;
      noCamera(video, status, name === 'NotAllowedError' ? '摄像头权限被拒绝' :
                              name === 'NotFoundError' ? '未找到摄像头' : '摄像头无法打开');
    });
  }

  function scan(video, status) {
    var canvas = document.createElement('canvas');
    var context = canvas.getContext('2d', {willReadFrequently: true});
    var tick = function () {
      if (!camera.stream) return;
      if (video.readyState >= 2 && video.videoWidth) {
        var scale = Math.min(1, 640 / video.videoWidth);
        canvas.width = Math.round(video.videoWidth * scale);
        canvas.height = Math.round(video.videoHeight * scale);
        context.drawImage(video, 0, 0, canvas.width, canvas.height);
        var image = context.getImageData(0, 0, canvas.width, canvas.height);
        var found = window.jsQR(image.data, image.width, image.height, {inversionAttempts: 'attemptBoth'});
        if (found && found.data) {
          stopCamera();
          video.hidden = true;
          preview(found.data, status);
          return;
        }
      }
      camera.timer = setTimeout(tick, 120);
    };
    tick();
  }

  function stopCamera() {
    clearTimeout(camera.timer);
    if (camera.stream) camera.stream.getTracks().forEach(function (t) { t.stop(); });
    camera.stream = null;
  }

  function preview(code, status) {
    setStatus(status, '正在查询…');
    SL.api('POST', '/clerk/pickups/verify', {code: code, confirm: false}, {quiet: true}).then(function (result) {
      showPreview(code, result);
    }, function (err) {
      setStatus(status, SL.politeMessage(err), 'warn');
      status.setAttribute('data-error', err.code || 'error');
    });
  }

  function showPreview(code, result) {
    stopCamera();
    var order = result.order;
    var taking = {};
    var rows = result.lines.map(function (line) {
      taking[line.line_id] = line.remaining;
      if (!line.remaining) {
        return el('div', {class: 'staff-line'}, [el('span', {class: 'staff-line__name', text: line.name + ' ×' + line.qty}),
                                                 el('span', {class: 'staff-line__done', text: '已提走'})]);
      }
      var shown = el('span', {text: line.remaining, id: 'take-' + line.line_id});
      var step = function (delta) {
        return function () {
          var next = Math.max(0, Math.min(line.remaining, taking[line.line_id] + delta));
          taking[line.line_id] = next;
          shown.textContent = next;
        };
      };
      return el('div', {class: 'staff-line'}, [
        el('span', {class: 'staff-line__name', text: line.name + (line.handed_over_qty ? '(已提 ' + line.handed_over_qty + ')' : '')}),
        el('span', {class: 'staff-stepper'}, [
          el('button', {type: 'button', text: '−', 'aria-label': '减少', onclick: step(-1)}), shown,
          el('button', {type: 'button', text: '+', 'aria-label': '增加', onclick: step(1)})]),
        el('span', {class: 'sl-muted', text: '/ ' + line.remaining})
      ]);
    });
    var payment = null;
    var paymentBox = null;
    if (result.amount_due > 0) {
      var cash = el('input', {type: 'radio', name: 'pay', value: 'cash', id: 'pay-cash'});
      var card = el('input', {type: 'radio', name: 'pay', value: 'card', id: 'pay-card'});
      cash.addEventListener('change', function () { payment = 'cash'; });
      card.addEventListener('change', function () { payment = 'card'; });
      paymentBox = el('div', {}, [
        Staff.kv('到店付款', SL.yuan(result.amount_due), {id: 'amount-due'}),
        el('div', {class: 'staff-choice'}, [el('label', {}, [cash, '现金']), el('label', {}, [card, '刷卡'])])]);
    }
    var status = el('div', {class: 'staff-status', id: 'pickup-status', hidden: true});
    var confirm = el('button', {type: 'button', class: 'weui-btn weui-btn_primary staff-wide', id: 'pickup-confirm',
                                text: '确认提货'});
    sheet.open('核对订单 ' + Staff.shortNo(order.number), [
      el('div', {id: 'pickup-preview'}, [
        Staff.kv('会员', result.member.name + ' ' + result.member.phone),
        Staff.kv('订单状态', order.status_label),
        Staff.kv('下单时间', Staff.when(order.created_at)),
        order.note ? Staff.kv('备注', order.note) : null]),
      el('div', {}, rows), reweighLink(order.id, result.lines, code), paymentBox, status, confirm]);
    confirm.addEventListener('click', function () {
      var lines = result.lines.filter(function (l) { return l.remaining; });
      var picked = lines.filter(function (l) { return taking[l.line_id] > 0; })
        .map(function (l) { return {line_id: l.line_id, qty: taking[l.line_id]}; });
      if (!picked.length) { setStatus(status, '请至少选择一件商品', 'warn'); return; }
      if (result.amount_due > 0 && !payment) { setStatus(status, '请先收款并选择付款方式', 'warn'); return; }
      var all = picked.length === lines.length && lines.every(function (l) { return taking[l.line_id] === l.remaining; });
      var body = {code: code, confirm: true};
      if (!all) body.lines = picked;
      if (payment) body.payment = payment;
      confirm.disabled = true;
      SL.api('POST', '/clerk/pickups/verify', body, {quiet: true}).then(function (done) {
        confirm.hidden = true;
        // Handed over: the quantities and payment choice are history now, not something to change.
        document.querySelectorAll('#clerk-sheet-body .staff-stepper button, #clerk-sheet-body input[name=pay]')
          .forEach(function (b) { b.disabled = true; });
        setStatus(status, done.completed ? '提货成功,订单已完成' : '部分提货成功,其余商品仍可凭同一提货码提取', 'ok');
        status.id = 'pickup-result';
        Staff.chime(false);
        refresh();
      }, function (err) {
        confirm.disabled = false;
        setStatus(status, SL.politeMessage(err), 'warn');
      });
    });
  }

  // ---- HQ: escalations of every store -------------------------------------------------------
  function enterHq() {
    $('clerk-title').textContent = '店员中心 · 总部督办';
    var list = $('clerk-list');
    var render = function (items) {
      list.innerHTML = '';
      if (!items.length) list.appendChild(el('div', {class: 'staff-empty', text: '暂无超时未接单的订单'}));
      items.forEach(function (o) {
        list.appendChild(el('div', {class: 'staff-card is-escalated', dataset: {orderId: o.order_id}}, [
          el('div', {class: 'staff-card__head'}, [
            el('span', {class: 'staff-card__no', text: Staff.shortNo(o.number) + ' · ' + (o.store_name || '')}),
            el('span', {class: 'staff-card__tag is-delivery', text: Staff.STATUS[o.status] || o.status})]),
          el('div', {class: 'staff-card__meta', text: '已等待 ' + Math.round(o.waited_seconds / 60) + ' 分钟未接单'})]));
      });
    };
    var load = function () {
      return SL.api('GET', '/hq/escalations').then(function (data) { render(data.escalations); });
    };
    load();
    var socket = state.socket = SL.socket('/clerk');
    socket.on('connect', function () { $('clerk-online').classList.add('is-on'); load(); });
    socket.on('disconnect', function () { $('clerk-online').classList.remove('is-on'); });
    socket.on('order.escalated', function (data) {
      Staff.chime(true);
      showAlert((data.store_name || '门店') + ' 有订单超时未接单', true);
      load();
    });
  }

  start();
})();
