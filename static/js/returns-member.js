/* The member's returns (退货) in the mall: the order page's 退货 section (each return's state, with
 * 撤销 while HQ has not decided and 填写快递单号 once approved) and the 申请退货 form (lines, quantities,
 * reason). Used by mall.js:
 *   view.appendChild(SL.returnsSection(order, {storeName, onChange}))
 *   SL.returnForm(view, order, {onDone})
 * Built on SL (api.js). */
(function () {
  'use strict';
  var el = SL.el;

  // What the member is told under each state (the label itself comes from the server).
  var HINTS = {
    requested: '等待总部审核',
    approved: '请将商品送到{store},或快递寄回后填写快递单号',
    shipped: '快递寄回中,门店收货后退款',
    refused: '未通过:{reason}',
    withdrawn: '您已撤销申请',
    refunded: '门店已收货,退款{route}'
  };

  function hint(r, storeName) {
    var route = r.refund_route === 'store' ? '请到' + storeName + '柜台领取' : '已原路退回';
    return (HINTS[r.status] || '').replace('{store}', storeName).replace('{reason}', r.refuse_reason || '')
      .replace('{route}', route);
  }

  function returnsSection(order, options) {
    var storeName = options.storeName || '下单门店';
    var box = el('div', {id: 'order-returns'}, el('div', {class: 'mall-section-title'}, '退货'));
    order.returns.forEach(function (r) { box.appendChild(returnCard(r, storeName, options.onChange)); });
    return box;
  }

  function returnCard(r, storeName, onChange) {
    var card = el('div', {class: 'rt-card', dataset: {returnId: r.id, status: r.status}}, [
      el('div', {class: 'rt-card__head'}, [
        el('span', {class: 'rt-card__status rt-' + r.status}, r.status_label),
        el('span', {class: 'rt-card__amount'}, '退款 ' + SL.yuan(r.amount))]),
      el('div', {class: 'rt-card__lines'}, r.lines.map(function (l) { return l.name + ' ×' + l.qty; }).join(',')),
      el('div', {class: 'rt-card__hint'}, hint(r, storeName)),
      r.tracking_no ? el('div', {class: 'rt-card__hint'}, '快递:' + r.carrier + ' ' + r.tracking_no) : null,
      el('div', {class: 'rt-card__when'}, '原因:' + r.reason_label + (r.note ? '(' + r.note + ')' : '') + ' · ' + SL.when(r.created_at, 'short'))
    ]);
    var actions = el('div', {class: 'rt-card__actions'});
    if (r.status === 'requested') {
      actions.appendChild(smallButton('撤销', 'withdraw-' + r.id, function (btn) {
        SL.confirm('撤销这个退货申请?', {ok: '撤销', cancel: '再想想'}).then(function (yes) {
          if (!yes) return;
          btn.disabled = true;
          SL.api('POST', '/returns/' + r.id + '/withdraw').then(function () { SL.toast('已撤销'); onChange(); },
            function () { btn.disabled = false; });
        });
      }));
    }
    if (r.status === 'approved' || r.status === 'shipped') {
      actions.appendChild(smallButton(r.status === 'shipped' ? '修改快递单号' : '填写快递单号', 'ship-' + r.id, function (btn) {
        btn.hidden = true;
        card.appendChild(shipForm(r, onChange));
      }));
    }
    if (actions.childNodes.length) card.appendChild(actions);
    return card;
  }

  function smallButton(text, id, onclick) {
    return el('button', {type: 'button', class: 'weui-btn weui-btn_mini weui-btn_default', id: id,
                         onclick: function (e) { onclick(e.target); }}, text);
  }

  function shipForm(r, onChange) {
    var carrier = el('input', {class: 'weui-input', id: 'ship-carrier', maxlength: 32, placeholder: '快递公司,如 顺丰', value: r.carrier || ''});
    var number = el('input', {class: 'weui-input', id: 'ship-tracking', maxlength: 64, placeholder: '快递单号', value: r.tracking_no || ''});
    var error = el('div', {class: 'rt-error', role: 'alert'});
    var submit = el('button', {type: 'submit', class: 'weui-btn weui-btn_mini weui-btn_primary', id: 'ship-submit'}, '提交');
    return el('form', {class: 'rt-ship', onsubmit: function (e) {
      e.preventDefault();
      if (!carrier.value.trim() || !number.value.trim()) { error.textContent = '请填写快递公司和快递单号'; return; }
      submit.disabled = true;
      SL.api('POST', '/returns/' + r.id + '/ship', {carrier: carrier.value.trim(), tracking_no: number.value.trim()}, {quiet: true})
        .then(function () { SL.toast('快递单号已提交'); onChange(); },
          function (err) { submit.disabled = false; error.textContent = SL.politeMessage(err); });
    }}, [carrier, number, error, submit]);
  }

  /** The 申请退货 form: a stepper per returnable line, a reason, an optional note. */
  function returnForm(view, order, options) {
    var opts = order.return_options;
    if (!opts) {
      view.appendChild(el('div', {class: 'mall-empty'}, el('p', {}, '该订单已不能申请退货')));
      return;
    }
    var chosen = {};
    var lines = order.lines.map(function (l) {
      var o = opts.lines.filter(function (x) { return x.line_id === l.id; })[0] || {returnable: 0};
      return {line: l, returnable: o.returnable, why: o.reason};
    });
    view.appendChild(el('div', {class: 'mall-section-title'}, '选择退货商品'));
    view.appendChild(el('div', {class: 'rt-lines', id: 'return-lines'}, lines.map(function (x) {
      return lineRow(x, chosen);
    })));
    view.appendChild(el('div', {class: 'mall-section-title'}, '退货原因'));
    var reasons = el('div', {id: 'return-reasons'}, Object.keys(opts.reasons).map(function (key, i) {
      return el('label', {class: 'mall-option'}, [
        el('input', {type: 'radio', name: 'return-reason', value: key, checked: i === 0}),
        el('span', {}, opts.reasons[key])]);
    }));
    view.appendChild(reasons);
    var note = el('textarea', {class: 'weui-textarea rt-note', id: 'return-note', maxlength: 200, rows: 3,
                               placeholder: '补充说明(选填,原因为「其他」时必填)'});
    view.appendChild(el('div', {class: 'rt-note-box'}, note));
    var total = el('span', {class: 'mall-price', id: 'return-total'}, SL.yuan(0));
    var error = el('div', {class: 'rt-error', role: 'alert', id: 'return-error'});
    view.appendChild(el('div', {class: 'mall-kv'}, [
      el('div', {}, [el('span', {}, '预计退款'), total]),
      el('div', {}, [el('span', {}, '申请截止'), el('span', {}, SL.when(opts.deadline))])]));
    view.appendChild(el('p', {class: 'rt-fine'}, '审核通过后,请将商品送到下单门店,或快递寄回并填写快递单号;门店收货后原路退款。暂不支持上传照片。'));
    view.appendChild(error);
    var submit = el('button', {type: 'button', class: 'weui-btn weui-btn_primary', id: 'return-submit'}, '提交申请');
    view.appendChild(el('div', {class: 'mall-actions'}, submit));
    function refreshTotal() {
      var cents = lines.reduce(function (sum, x) { return sum + (chosen[x.line.id] || 0) * x.line.unit_price; }, 0);
      total.textContent = SL.yuan(cents);
    }
    view.addEventListener('return-qty', refreshTotal);
    submit.addEventListener('click', function () {
      var picked = Object.keys(chosen).filter(function (id) { return chosen[id] > 0; })
        .map(function (id) { return {line_id: Number(id), qty: chosen[id]}; });
      var reason = (reasons.querySelector('input:checked') || {}).value;
      if (!picked.length) { error.textContent = '请选择要退的商品和数量'; return; }
      if (reason === 'other' && !note.value.trim()) { error.textContent = '原因为「其他」时请填写说明'; return; }
      error.textContent = '';
      submit.disabled = true;
      SL.api('POST', '/orders/' + order.id + '/returns', {lines: picked, reason: reason, note: note.value.trim()}, {quiet: true})
        .then(function () { SL.toast('退货申请已提交'); options.onDone(); },
          function (err) { submit.disabled = false; error.textContent = SL.politeMessage(err); });
    });
  }

  function lineRow(x, chosen) {
    var l = x.line;
    if (!x.returnable) {
      return el('div', {class: 'rt-line is-off'}, [
        el('div', {class: 'rt-line__name'}, [l.name, el('small', {}, x.why || '已申请退货或无可退数量')])]);
    }
    var shown = el('span', {}, '0');
    function step(d) {
      chosen[l.id] = Math.max(0, Math.min((chosen[l.id] || 0) + d, x.returnable));
      shown.textContent = String(chosen[l.id]);
      shown.dispatchEvent(new CustomEvent('return-qty', {bubbles: true}));
    }
    return el('div', {class: 'rt-line', dataset: {lineId: l.id}}, [
      el('div', {class: 'rt-line__name'}, [l.name, el('small', {}, SL.yuan(l.unit_price) + ' · 可退 ' + x.returnable + ' 件')]),
      el('span', {class: 'mall-stepper'}, [
        el('button', {type: 'button', 'aria-label': '减少', onclick: function () { step(-1); }}, '−'), shown,
        el('button', {type: 'button', 'aria-label': '增加', class: 'return-plus', onclick: function () { step(1); }}, '+')])
    ]);
  }

  SL.returnsSection = returnsSection;
  SL.returnForm = returnForm;
})();
