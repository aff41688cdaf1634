/* HQ back office (/hq): orders no store accepted in time (escalated, live over the /clerk HQ room),
 * members' returns to approve or refuse (退货审核), phone orders (phone-order.js),
 * register a store's hardware bridge (its token shown once), see which bridges, scales and printers
 * are online, revoke a bridge, see print failures live. Built on SL (api.js). */
(function () {
  'use strict';
  var el = SL.el;
  var state = {me: null, stores: [], socket: null, timer: null};
  var STATES = {online: '在线', offline: '离线', silent: '无响应', paper_out: '缺纸', unknown: '待命'};
  var KINDS = {receipt: '小票', pickup_ticket: '提货单', delivery_note: '配送单', drawer_kick: '钱箱'};

  function $(id) { return document.getElementById(id); }

  function showLogin(err) {
    stop();
    $('hq-view').hidden = true;
    $('hq-logout').hidden = true;
    $('hq-user').textContent = '';
    SL.loginForm({account: 'username', title: '总部登录', hint: '演示账号 admin / demo1234'}).then(function () {
      SL.whoAmI().then(start);
    });
  }

  function start(me) {
    if (!me) { showLogin(); return; }
    if (me.role !== 'hq') {
      SL.logout();
      SL.showError('该账号不是总部账号,请使用总部账号登录');
      showLogin();
      return;
    }
    state.me = me;
    $('hq-user').textContent = me.name || '';
    $('hq-logout').hidden = false;
    $('hq-view').hidden = false;
    loadStores().then(loadReturns);  // a return names its store
    SL.phoneOrder.start();
    refresh();
    state.timer = setInterval(refresh, 10000);  // online status changes without a push
    loadEscalations();
    try {
      state.socket = SL.socket('/clerk');
      state.socket.on('connect', loadEscalations);  // back after a drop: read the list again
      state.socket.on('order.escalated', function (data) {
        SL.toast((data.store_name || '门店') + ' 有订单超时未接单');
        loadEscalations();
      });
      state.socket.on('print.status', function (job) {
        if (job.status === 'failed' || job.status === 'expired') SL.toast(KINDS[job.kind] + '打印失败');
        refresh();
      });
    } catch (e) { /* the page still works by polling */ }
  }

  function stop() {
    if (state.timer) clearInterval(state.timer);
    state.timer = null;
    if (state.socket) state.socket.disconnect();
    state.socket = null;
  }

  function loadStores() {
    return SL.api('GET', '/stores').then(function (data) {
      state.stores = data.stores.filter(function (s) { return s.kind === 'store'; });
      var select = $('hq-store');
      select.innerHTML = '';
      state.stores.forEach(function (s) { select.appendChild(el('option', {value: s.id, text: s.name})); });
      SL.hqDayEnd.start(state.stores);
    });
  }

  // ---- 超时未接单: escalated orders still waiting, longest waiting first ----------------------------
  function loadEscalations() {
    SL.api('GET', '/hq/escalations', null, {quiet: true}).then(renderEscalations, function () {});
  }

  function renderEscalations(data) {
    var box = $('hq-escalations');
    var items = data.escalations;
    box.innerHTML = '';
    $('hq-escalation-count').textContent = items.length ? items.length + ' 单' : '';
    if (!items.length) { box.appendChild(el('div', {class: 'hq-empty', text: '暂无超时未接单的订单'})); return; }
    items.forEach(function (o) {
      box.appendChild(el('div', {class: 'hq-escalation', dataset: {orderId: o.order_id}}, [
        el('div', {class: 'hq-device__head'}, [
          el('span', {class: 'hq-device__name', text: o.store_name || ''}),
          badge('已等待 ' + (o.waited_seconds < 60 ? o.waited_seconds + ' 秒' : Math.round(o.waited_seconds / 60) + ' 分钟'), 'revoked')]),
        el('div', {class: 'hq-device__row'}, [el('span', {class: 'label', text: '订单'}), o.number]),
        el('div', {class: 'hq-device__row'}, [el('span', {class: 'label', text: '督办'}),
                                              when(o.escalated_at) + ' 已提醒门店,仍未接单'])]));
    });
  }

  // ---- 外卖平台状态回写: write-backs still owed to platforms (pending) or given up (failed) -------------
  var WRITEBACK_STATUS = {accepted: '已接单', shipped: '已交骑手', completed: '已送达', cancelled: '已取消'};

  function loadWritebacks() {
    SL.api('GET', '/hq/channel-outbox', null, {quiet: true}).then(renderWritebacks, function () {});
  }

  function renderWritebacks(data) {
    var box = $('hq-writebacks');
    box.innerHTML = '';
    var failed = data.rows.filter(function (r) { return r.state === 'failed'; }).length;
    $('hq-writeback-count').textContent = data.rows.length ? '待回写 ' + (data.rows.length - failed) + ',失败 ' + failed : '';
    if (!data.rows.length) { box.appendChild(el('div', {class: 'hq-empty', text: '所有状态都已回写平台'})); return; }
    data.rows.forEach(function (r) {
      var isFailed = r.state === 'failed';
      box.appendChild(el('div', {class: 'hq-escalation hq-writeback' + (isFailed ? '' : ' is-pending'), dataset: {rowId: r.id}}, [
        el('div', {class: 'hq-device__head'}, [
          el('span', {class: 'hq-device__name', text: r.label + ' · ' + (WRITEBACK_STATUS[r.status] || r.status)}),
          badge(isFailed ? '回写失败' : '等待重试', isFailed ? 'revoked' : 'warn')]),
        el('div', {class: 'hq-device__row'}, [el('span', {class: 'label', text: '订单'}), r.number]),
        el('div', {class: 'hq-device__row'}, [el('span', {class: 'label', text: '尝试'}),
                                              r.attempts + ' 次' + (r.last_error ? ',' + r.last_error : '')]),
        isFailed ? el('div', {class: 'hq-device__row'}, [el('button', {
          type: 'button', class: 'weui-btn weui-btn_mini weui-btn_default', text: '重新回写',
          onclick: function () {
            SL.api('POST', '/hq/channel-outbox/' + r.id + '/retry').then(function () {
              SL.toast('已重新排队');
              loadWritebacks();
            });
          }})]) : null]));
    });
  }

  // ---- 退货审核: members' returns by status; approve, or refuse with the reason the member sees ---------
  function loadReturns() {
    var status = $('hq-return-filter').value;
    SL.api('GET', '/hq/returns' + (status ? '?status=' + status : ''), null, {quiet: true}).then(renderReturns, function () {});
  }

  function renderReturns(data) {
    var box = $('hq-returns');
    box.innerHTML = '';
    $('hq-return-count').textContent = data.returns.length ? data.returns.length + ' 单' : '';
    if (!data.returns.length) { box.appendChild(el('div', {class: 'hq-empty', text: '暂无退货申请'})); return; }
    data.returns.forEach(function (r) { box.appendChild(returnCard(r)); });
  }

  function storeName(id) {
    var s = state.stores.filter(function (x) { return x.id === id; })[0];
    return s ? s.name : '中心仓';  // not a store: the warehouse an express order left from
  }

  function returnCard(r) {
    var row = function (label, text) {
      return el('div', {class: 'hq-device__row'}, [el('span', {class: 'label', text: label}), text]);
    };
    var card = el('div', {class: 'hq-return', dataset: {returnId: r.id, status: r.status}}, [
      el('div', {class: 'hq-device__head'}, [
        el('span', {class: 'hq-device__name', text: '退货单 ' + r.id + ' · ' + SL.yuan(r.amount)}),
        badge(r.status_label, r.status === 'requested' ? 'warn' : r.status === 'refused' ? 'revoked' : 'online')]),
      row('订单', r.order_number + ' · ' + storeName(r.location_id)),
      row('会员', r.member.name + ' ' + r.member.phone),
      row('商品', r.lines.map(function (l) { return l.name + ' ×' + l.qty; }).join(',')),
      row('原因', r.reason_label + (r.note ? '(' + r.note + ')' : '')),
      row('申请', SL.when(r.created_at, 'short')),
      r.refuse_reason ? row('拒绝', r.refuse_reason) : null,
      r.tracking_no ? row('快递', r.carrier + ' ' + r.tracking_no) : null
    ]);
    if (r.status === 'requested') card.appendChild(decision(r, card));
    return card;
  }

  function decision(r, card) {
    var reason = el('input', {class: 'weui-input hq-return-reason', id: 'refuse-reason-' + r.id, maxlength: 200,
                              placeholder: '拒绝原因(会员可见)', hidden: true});
    var error = el('div', {class: 'sl-field-error', role: 'alert'});
    var approve = el('button', {type: 'button', class: 'weui-btn weui-btn_mini weui-btn_primary', id: 'approve-' + r.id, text: '同意退货'});
    var refuse = el('button', {type: 'button', class: 'weui-btn weui-btn_mini weui-btn_warn', id: 'refuse-' + r.id, text: '拒绝'});
    function decide(action, body, done) {
      approve.disabled = refuse.disabled = true;
      SL.api('POST', '/hq/returns/' + r.id + '/' + action, body, {quiet: true}).then(function () {
        SL.toast(done);
        loadReturns();
      }, function (err) { approve.disabled = refuse.disabled = false; error.textContent = SL.politeMessage(err); });
    }
    approve.addEventListener('click', function () { decide('approve', {}, '已同意退货'); });
    refuse.addEventListener('click', function () {
      if (reason.hidden) { reason.hidden = false; refuse.textContent = '确认拒绝'; reason.focus(); return; }
      if (!reason.value.trim()) { error.textContent = '请填写拒绝原因'; return; }
      decide('refuse', {reason: reason.value.trim()}, '已拒绝退货');
    });
    return el('div', {class: 'hq-return__decide'}, [reason, error, el('div', {class: 'hq-device__foot'}, [
      el('span', {class: 'sl-muted', text: '同意后会员将商品送回门店或快递寄回'}), refuse, approve])]);
  }

  function refresh() {
    loadWritebacks();
    SL.api('GET', '/hq/devices', null, {quiet: true}).then(renderDevices, function () {});
    SL.api('GET', '/hq/print-jobs?status=failed', null, {quiet: true}).then(renderFailures, function () {});
  }

  function when(iso) {
    return iso ? SL.when(iso, 'short') : '从未连接';
  }

  function badge(text, kind) { return el('span', {class: 'hq-badge is-' + kind, text: text}); }

  /** A scale's or printer's state as last reported: only meaningful while its bridge is connected. */
  function partBadge(d, partState) {
    if (!d.online) return badge('离线', 'offline');
    return badge(STATES[partState] || partState || '', partState === 'online' ? 'online' : 'warn');
  }

  function deviceCard(d) {
    var status = d.revoked ? badge('已撤销', 'revoked') : d.online ? badge('在线', 'online') : badge('离线', 'offline');
    var scale = d.scale
      ? [el('span', {text: d.scale.port + '(' + (d.scale.protocol || '') + ')'}), partBadge(d, d.scale.state)]
      : [el('span', {class: 'sl-muted', text: '未接'})];
    var printers = (d.printers || []).length ? d.printers.map(function (p) {
      return el('span', {}, [p.name + ' ' + (p.paper ? p.paper + 'mm ' : ''), partBadge(d, p.state)]);
    }) : [el('span', {class: 'sl-muted', text: '未接'})];
    var revoke = d.revoked ? null : el('button', {
      type: 'button', class: 'weui-btn weui-btn_mini weui-btn_warn hq-revoke', dataset: {id: d.id}, text: '撤销',
      onclick: function () { revokeDevice(d); }
    });
    var jobs = [];
    if (d.queued_jobs) jobs.push('待打印 ' + d.queued_jobs);
    if (d.failed_jobs) jobs.push('失败 ' + d.failed_jobs);
    return el('div', {class: 'hq-device' + (d.revoked ? ' is-revoked' : ''), dataset: {id: d.id}}, [
      el('div', {class: 'hq-device__head'}, [el('div', {class: 'hq-device__name', text: d.name}), status]),
      el('div', {class: 'hq-device__row'}, [el('span', {class: 'label', text: '电子秤'})].concat(scale)),
      el('div', {class: 'hq-device__row'}, [el('span', {class: 'label', text: '打印机'})].concat(printers)),
      jobs.length ? el('div', {class: 'hq-device__row'}, [el('span', {class: 'label', text: '任务'}), jobs.join(' · ')]) : null,
      el('div', {class: 'hq-device__foot'}, [
        el('span', {class: 'sl-muted', text: '令牌 ' + d.token_hint + '… · 最近 ' + when(d.last_seen_at)}), revoke])
    ]);
  }

  function renderDevices(data) {
    var box = $('hq-devices');
    box.innerHTML = '';
    var devices = data.devices;
    var online = devices.filter(function (d) { return d.online; }).length;
    var active = devices.filter(function (d) { return !d.revoked; }).length;
    $('hq-summary').textContent = active ? '在线 ' + online + ' / ' + active : '';
    if (!devices.length) {
      box.appendChild(el('div', {class: 'hq-empty', text: '还没有注册硬件桥'}));
      return;
    }
    var byStore = {};
    var order = [];
    devices.forEach(function (d) {
      if (!byStore[d.store_id]) { byStore[d.store_id] = []; order.push(d.store_id); }
      byStore[d.store_id].push(d);
    });
    order.forEach(function (storeId) {
      box.appendChild(el('div', {class: 'hq-store', text: byStore[storeId][0].store_name}));
      byStore[storeId].forEach(function (d) { box.appendChild(deviceCard(d)); });
    });
  }

  function renderFailures(data) {
    var box = $('hq-failures');
    box.innerHTML = '';
    if (!data.jobs.length) {
      box.appendChild(el('div', {class: 'hq-empty', text: '没有失败的打印任务'}));
      return;
    }
    data.jobs.slice(0, 10).forEach(function (job) {
      box.appendChild(el('div', {class: 'weui-cell'}, [
        el('div', {class: 'weui-cell__bd', text: (KINDS[job.kind] || job.kind) + (job.order_id ? ' · 订单 ' + job.order_id : '')}),
        el('div', {class: 'weui-cell__ft', text: job.error || '失败'})
      ]));
    });
  }

  function register(event) {
    event.preventDefault();
    var error = $('hq-register-error');
    var name = $('hq-name').value.trim();
    error.textContent = '';
    if (!name) { error.textContent = '请填写名称'; $('hq-name').focus(); return; }
    var button = $('hq-register-submit');
    button.disabled = true;
    SL.api('POST', '/hq/devices', {store_id: Number($('hq-store').value), name: name}, {quiet: true}).then(function (data) {
      $('hq-name').value = '';
      $('hq-token-value').textContent = data.token;
      $('hq-token-command').textContent = 'STORELINK_BRIDGE_TOKEN=' + data.token +
        ' python -m hardware_bridge --server ' + location.origin +
        ' --scale /dev/ttyUSB0 --scale-protocol toledo8217 --printer tcp://打印机IP:9100';
      $('hq-token').hidden = false;
      refresh();
    }, function (err) {
      error.textContent = SL.politeMessage(err);
    }).then(function () { button.disabled = false; });
  }

  function revokeDevice(d) {
    SL.confirm('撤销「' + d.name + '」后它将立即断开且无法再连接。', {title: '撤销硬件桥', ok: '撤销'}).then(function (yes) {
      if (!yes) return;
      SL.api('POST', '/hq/devices/' + d.id + '/revoke').then(function () {
        SL.toast('已撤销');
        refresh();
      });
    });
  }

  $('hq-register').addEventListener('submit', register);
  $('hq-token-copy').addEventListener('click', function () {
    var value = $('hq-token-value').textContent;
    if (navigator.clipboard) navigator.clipboard.writeText(value).then(function () { SL.toast('已复制'); }, function () {});
  });
  $('hq-token-close').addEventListener('click', function () {
    $('hq-token').hidden = true;
    $('hq-token-value').textContent = '';
    $('hq-token-command').textContent = '';
  });
  $('hq-logout').addEventListener('click', function () { SL.logout(); showLogin(); });
  $('hq-return-filter').addEventListener('change', loadReturns);
  SL.onUnauthorized(showLogin);
  SL.whoAmI().then(function (me) { if (me) start(me); else showLogin(); }, function () { showLogin(); });
})();
