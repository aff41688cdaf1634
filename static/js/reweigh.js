/* The clerk's re-weigh screen (称重补退, /clerk/orders/<id>/reweigh): weigh each fresh-goods line on the
 * store scale (live `scale.reading` over /clerk, captured only when stable) or type the weight, see the
 * difference and settle it. Opened from the pickup preview and before shipping a delivery. Built on SL. */
(function () {
  'use strict';
  var el = SL.el;
  var view = document.getElementById('rw-view');
  var orderId = Number(view.getAttribute('data-order-id'));
  var CHOICE_LABELS = {refund: '原路退款', add_goods: '增补商品', topup: '会员手机补款', cash: '收取现金',
                       waive: '差额免收', amount_due: '计入应收'};
  var STALE_MS = 5000;
  var state = {statement: null, order: null, reading: null, readingAt: 0, busy: false, open: {}};

  function showLogin() {
    document.getElementById('rw-user').textContent = '';
    SL.loginForm({account: 'username', title: '店员登录', hint: '演示账号 clerk1 / demo1234'}).then(start);
  }

  function start(me) {
    if (me.role !== 'clerk') {
      SL.showError('请使用店员账号登录');
      SL.logout();
      showLogin();
      return;
    }
    document.getElementById('rw-user').textContent = me.name || '';
    connect();
    refresh();
    setInterval(renderScale, 1000);  // a reading that stops coming goes stale on screen
  }

  function refresh() {
    return Promise.all([
      SL.api('GET', '/orders/' + orderId),
      SL.api('GET', '/clerk/orders/' + orderId + '/weighings')
    ]).then(function (results) {
      state.order = results[0];
      state.statement = results[1];
      render();
    }, function (err) {
      if (err.status !== 401) view.replaceChildren(el('div', {class: 'rw-empty', text: SL.politeMessage(err)}));
    });
  }

  function connect() {
    var socket = SL.socket('/clerk');
    socket.on('scale.reading', function (r) {
      if (!r || typeof r.weight_g !== 'number') return;
      state.reading = r;
      state.readingAt = Date.now();
      renderScale();
    });
    socket.on('order.status', function (p) {
      if (p && Number(p.order_id) === orderId) refresh();  // e.g. the member paid the top-up
    });
  }

  // ---- the scale -------------------------------------------------------------------------------
  function liveReading() {
    var r = state.reading;
    return r && Date.now() - state.readingAt < STALE_MS ? r : null;
  }

  function stableReading() {
    var r = liveReading();
    return r && r.stable && !r.overload && r.weight_g >= 0 ? r : null;
  }

  function renderScale() {
    var box = document.getElementById('rw-scale');
    if (!box) return;
    var r = liveReading();
    var weight = box.querySelector('.rw-scale__weight');
    var label = box.querySelector('.rw-scale__state');
    box.classList.remove('is-stable', 'is-moving', 'is-overload');
    if (!r) {
      weight.textContent = '— g';
      label.textContent = '未收到电子秤读数';
    } else if (r.overload) {
      weight.textContent = 'OL';
      label.textContent = '超载';
      box.classList.add('is-overload');
    } else {
      weight.textContent = r.weight_g + ' g';
      label.textContent = r.stable ? '稳定' : '称重中…';
      box.classList.add(r.stable ? 'is-stable' : 'is-moving');
    }
    var stable = stableReading();
    Array.prototype.forEach.call(document.querySelectorAll('.rw-capture-scale'), function (button) {
      button.disabled = !stable || state.busy;
    });
  }

  // ---- lines -----------------------------------------------------------------------------------
  function render() {
    var s = state.statement, o = state.order;
    document.getElementById('rw-title').textContent = '称重补退 · ' + o.number.slice(-6);
    var children = [
      el('div', {class: 'rw-order'}, [el('b', {text: '订单 ' + o.number}), ' · ' + o.status_label +
        (o.payment_method === 'cod' ? ' · 货到付款' : '')]),
      el('div', {class: 'rw-scale', id: 'rw-scale'}, [
        el('span', {class: 'rw-scale__weight'}), el('span', {class: 'rw-scale__state'})])
    ];
    if (!s.lines.length) children.push(el('div', {class: 'rw-empty', text: '本单没有需要称重的商品'}));
    s.lines.forEach(function (line) { children.push(lineCard(line)); });
    children.push(footer(s));
    view.replaceChildren.apply(view, children);
    renderScale();
  }

  function lineCard(line) {
    var w = line.weighing;
    var card = el('div', {class: 'rw-line', id: 'rw-line-' + line.line_id, dataset: {lineId: line.line_id}}, [
      el('div', {class: 'rw-line__head'}, [el('span', {text: line.name + ' ×' + line.qty}), el('span', {text: SL.yuan(line.line_total)})]),
      el('div', {class: 'rw-line__meta', text: '应重 ' + line.expected_g + ' g(每件 ' + line.standard_weight_g + ' g)· ' +
        SL.yuan(line.price_per_kg) + '/kg'})
    ]);
    var canWeigh = !w || w.status === 'open' || (w.status === 'settled' && w.settlement === 'none');
    if (w) card.appendChild(result(w));
    if (canWeigh) card.appendChild(captureRow(line, !!w));
    if (w && w.status === 'open') card.appendChild(choices(line, w));
    return card;
  }

  function result(w) {
    var diff = w.difference;
    var text = diff === 0 ? (w.within_tolerance ? '在允差 ' + w.tolerance + ' 内,无需补退' : '无差额')
      : (diff < 0 ? '应退 ' : '应补 ') + SL.yuan(Math.abs(diff));
    var box = el('div', {class: 'rw-result'}, [
      el('div', {}, '实称 ' + w.weight_g + ' g(' + (w.source === 'scale' ? '电子秤' : '手工录入') + '),' +
        (w.delta_g >= 0 ? '多 ' : '少 ') + Math.abs(w.delta_g) + ' g'),
      el('div', {class: 'rw-result__diff' + (diff < 0 ? ' is-refund' : diff > 0 ? ' is-topup' : ''), text: text})
    ]);
    if (w.status === 'settled' && diff !== 0) {
      var how = '已处理:' + w.settlement_label;
      if (w.added_goods.length) how += '(' + w.added_goods.map(function (g) { return g.name + ' ×' + g.qty; }).join('、') + ')';
      if (w.settlement === 'add_goods' && w.refunded) how += ',另退 ' + SL.yuan(w.refunded);
      if (w.reason) how += ',原因:' + w.reason;
      box.appendChild(el('div', {class: 'rw-settled', text: how}));
    }
    if (w.status === 'awaiting_payment') {
      box.appendChild(el('div', {class: 'rw-pending', text: '等待会员手机补款 ' + SL.yuan(diff) + '…'}));
      box.appendChild(el('div', {class: 'rw-choices'}, [
        button('改收现金', 'weui-btn_default', function () { settle(w, 'cash', {}); })]));
    }
    return box;
  }

  function captureRow(line, again) {
    var typed = el('input', {class: 'rw-typed', type: 'number', inputmode: 'numeric', min: 0, max: 100000,
                             placeholder: '手输克数', 'aria-label': line.name + ' 手输重量(克)'});
    var scaleButton = button(again ? '重新采集' : '采集秤重', 'weui-btn_primary rw-capture-scale', function () {
      var r = stableReading();
      if (!r) { SL.showError('电子秤读数尚未稳定'); return; }
      weigh(line, r.weight_g, 'scale', r.device_id);
    });
    var typedButton = button('录入', 'weui-btn_default', function () {
      var grams = Number(typed.value);
      if (typed.value === '' || !Number.isInteger(grams) || grams < 0 || grams > 100000) {
        SL.showError('请输入 0 到 100000 的整数克数'); typed.focus(); return;
      }
      weigh(line, grams, 'typed');
    });
    return el('div', {class: 'rw-capture'}, [scaleButton, typed, typedButton]);
  }

  function choices(line, w) {
    var row = el('div', {class: 'rw-choices'});
    var extra = el('div', {class: 'rw-extra-box'});
    w.choices.forEach(function (choice) {
      row.appendChild(button(CHOICE_LABELS[choice] || choice, choice === w.choices[0] ? 'weui-btn_primary' : 'weui-btn_default',
        function () {
          if (choice === 'waive') return askExtra(extra, '免收原因', '', function (reason) { settle(w, choice, {reason: reason}); });
          if (choice === 'add_goods') return askGoods(extra, line, w);
          settle(w, choice, {});
        }, 'rw-choice-' + choice));
    });
    return el('div', {}, [row, extra]);
  }

  function askExtra(box, placeholder, value, done) {
    var input = el('input', {type: 'text', maxlength: 200, placeholder: placeholder, value: value});
    box.replaceChildren(el('div', {class: 'rw-extra'}, [input, button('确定', 'weui-btn_primary', function () {
      if (!input.value.trim()) { SL.showError('请填写' + placeholder); input.focus(); return; }
      done(input.value.trim());
    })]));
    input.focus();
  }

  function askGoods(box, line, w) {
    var sku = el('input', {type: 'text', maxlength: 32, value: line.sku, 'aria-label': '增补商品编码'});
    var qty = el('input', {type: 'number', min: 1, max: 99, value: 1, 'aria-label': '数量'});
    box.replaceChildren(el('div', {class: 'rw-extra'}, [sku, qty, button('增补', 'weui-btn_primary', function () {
      settle(w, 'add_goods', {sku: sku.value.trim(), qty: Number(qty.value)});
    })]));
  }

  function footer(s) {
    if (!s.lines.length) return el('div');
    var unweighed = s.lines.filter(function (l) { return !l.weighing; }).length;
    var ready = s.all_settled && !unweighed;
    var text = ready ? '称重差额已全部处理,可以交付' :
      s.topup_due ? '等待会员补款 ' + SL.yuan(s.topup_due) :
      unweighed ? '还有 ' + unweighed + ' 件商品未称重' : '请处理称重差额';
    if (s.amount_due !== null && s.amount_due !== undefined) text += ' · 应收 ' + SL.yuan(s.amount_due);
    return el('div', {class: 'rw-footer ' + (ready ? 'is-ready' : 'is-waiting'), id: 'rw-footer', text: text});
  }

  // ---- actions ---------------------------------------------------------------------------------
  function weigh(line, grams, source, deviceId) {
    var entry = {line_id: line.line_id, weight_g: grams, source: source};
    if (source === 'scale' && deviceId) entry.device_id = deviceId;
    act(SL.api('POST', '/clerk/orders/' + orderId + '/weighings', {lines: [entry]}), null);  // the result shows itself
  }

  function settle(w, settlement, extra) {
    var body = Object.assign({settlement: settlement}, extra);
    var lineId = state.statement.lines.filter(function (l) { return l.weighing && l.weighing.id === w.id; })[0].line_id;
    act(SL.api('POST', '/clerk/orders/' + orderId + '/lines/' + lineId + '/settlement', body),
        settlement === 'topup' ? '已通知会员补款' : '已处理');
  }

  function act(promise, done) {
    state.busy = true;
    renderScale();
    promise.then(function (statement) {
      state.statement = statement;
      if (done) SL.toast(done, 1200);
      render();
    }, function () { /* the error bar already says why */ }).then(function () {
      state.busy = false;
      renderScale();
    });
  }

  function button(text, kind, onclick, id) {
    return el('button', {type: 'button', class: 'weui-btn weui-btn_mini ' + kind, id: id, text: text, onclick: onclick});
  }

  SL.onUnauthorized(showLogin);
  SL.whoAmI().then(function (me) { if (me) start(me); else showLogin(); }, function () { showLogin(); });
})();
