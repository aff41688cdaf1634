/* The member mall (/): browse, cart, checkout, pay, orders with live status, pickup code, messages.
 *
 * One page, routed by path (history.pushState): every path below is also served by the server, so a
 * reload, a shared link or the payment provider's return URL (/orders/<id>) opens the right view.
 * Browsing is open to everyone; the cart lives in localStorage; checkout, orders, messages and the
 * account ask for a login (SL.loginForm, or registration with a mobile number).
 */
(function () {
  'use strict';

  var el = SL.el;
  var api = SL.api;
  var root = document.getElementById('mall-view');
  var titleNode = document.getElementById('mall-title');
  var backButton = document.getElementById('mall-back');

  var STATUS = {
    pending_payment: '待支付', awaiting_acceptance: '待接单', accepted: '备货中', ready_for_pickup: '待提货',
    ready_to_ship: '待发货', shipped: '已发货', completed: '已完成', rejected: '已拒签', cancelled: '已取消',
    expired: '已超时关闭'
  };
  var FINISHED = ['completed', 'rejected', 'cancelled', 'expired'];
  var METHODS = {pickup: '门店自提', store_delivery: '门店配送', express: '快递'};
  var PAYMENT = {online: '在线支付', cod: '货到付款', at_store: '到店付款'};
  var PAY_STATUS = {unpaid: '未支付', paid: '已支付', partially_refunded: '部分退款', refunded: '已退款'};
  var EVENT_KIND = {placed: '提交订单', status: '', payment: '支付', refund: '退款', weighed: '称重',
                    weighing_settled: '称重补退', topup_paid: '称重补款', late_payment: '退回重复付款',
                    refund_paid_out: '门店已退款', partial_pickup: '部分提货', pickup_reminder: '提货提醒',
                    returned: '退货入库', cod_checked: '货到付款已入账', return_requested: '申请退货',
                    return_withdrawn: '撤销退货', return_approved: '退货已同意', return_refused: '退货未通过',
                    return_shipped: '退货已寄回', return_refunded: '退货已收货'};
  var TILE_COLOURS = ['#f6a13b', '#35b36f', '#3e8ef7', '#e8604c', '#9b6cd6', '#1fb5ad', '#d9a400', '#ef6f9a'];

  var CART_KEY = 'storelink.mall.cart';
  var STORE_KEY = 'storelink.mall.store';

  var state = {
    me: null, stores: null, storeId: null, category: '', query: '', catalogue: [], socket: null,
    lastEventId: 0, unread: 0, route: null, page: null, timers: [], objectUrls: []
  };

  // ---- small helpers ------------------------------------------------------------------------------
  function load(key, fallback) {
    try { var v = localStorage.getItem(key); return v ? JSON.parse(v) : fallback; } catch (e) { return fallback; }
  }
  function store(key, value) {
    try { localStorage.setItem(key, JSON.stringify(value)); } catch (e) { /* private mode: cart lasts the visit */ }
  }
  function two(n) { return (n < 10 ? '0' : '') + n; }
  var when = SL.when;  // Beijing time, whatever the phone's zone
  function distance(m) {
    if (m === null || m === undefined) return '';
    return m < 1000 ? m + ' m' : (m / 1000).toFixed(1) + ' km';
  }
  function randomKey() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return (b < 16 ? '0' : '') + b.toString(16); }).join('');
  }
  function tile(product, cls) {
    var code = 0;
    for (var i = 0; i < product.category.length; i++) code += product.category.charCodeAt(i);
    return el('div', {class: cls, style: 'background:' + TILE_COLOURS[code % TILE_COLOURS.length]}, product.name.charAt(0));
  }
  function priceNodes(p) {
    var unit = p.sold_by === 'weight' ? (p.unit || '只') : (p.unit || '件');
    return [el('span', {class: 'mall-price'}, [SL.yuan(p.price), el('small', {}, '/' + unit)])];
  }
  function weighedNote(p) {
    if (p.sold_by !== 'weight') return null;
    return el('div', {class: 'mall-note'}, '按重量计价 ' + SL.yuan(p.price_per_kg) + '/kg,每' + (p.unit || '只') + '按标准重量 ' +
      p.standard_weight_g + 'g 计 ' + SL.yuan(p.price) + ';提货或配送前称重,多退少补。');
  }
  function loading() { return el('div', {class: 'mall-loading'}, '加载中…'); }
  function section(title) { return el('div', {class: 'mall-section-title'}, title); }
  function empty(text, action) { return el('div', {class: 'mall-empty'}, [el('p', {}, text), action || null]); }
  function button(text, attrs, onclick) {
    attrs = attrs || {};
    attrs.type = 'button';
    attrs.class = 'weui-btn ' + (attrs.class || 'weui-btn_primary');
    attrs.onclick = onclick;
    return el('button', attrs, text);
  }
  function busy(btn, promise) {
    btn.disabled = true;
    btn.classList.add('weui-btn_loading');
    return promise.then(function (v) { btn.disabled = false; btn.classList.remove('weui-btn_loading'); return v; },
      function (e) { btn.disabled = false; btn.classList.remove('weui-btn_loading'); throw e; });
  }
  function every(ms, fn) { var t = setInterval(fn, ms); state.timers.push(t); return t; }

  // ---- cart (localStorage) ----------------------------------------------------------------------------
  var cart = {
    items: function () {
      return load(CART_KEY, []).filter(function (i) { return i && typeof i.sku === 'string' && i.qty > 0; });
    },
    save: function (items) { store(CART_KEY, items); updateBadges(); },
    qty: function (sku) {
      var found = cart.items().filter(function (i) { return i.sku === sku; })[0];
      return found ? found.qty : 0;
    },
    set: function (sku, qty) {
      var items = cart.items().filter(function (i) { return i.sku !== sku; });
      if (qty > 0) {
        var existing = cart.items().map(function (i) { return i.sku; }).indexOf(sku);
        items.splice(existing < 0 ? items.length : existing, 0, {sku: sku, qty: Math.min(qty, 999)});
      }
      cart.save(items);
    },
    add: function (sku, qty) { cart.set(sku, cart.qty(sku) + (qty || 1)); },
    clear: function () { cart.save([]); },
    count: function () { return cart.items().reduce(function (n, i) { return n + i.qty; }, 0); },
    body: function () { return cart.items().map(function (i) { return {sku: i.sku, qty: i.qty}; }); }
  };

  // ---- catalogue and stores -------------------------------------------------------------------------
  function stores() {
    if (state.stores) return Promise.resolve(state.stores);
    return api('GET', '/stores?kind=store').then(function (data) {
      state.stores = data.stores;
      var saved = load(STORE_KEY, null);
      var known = data.stores.some(function (s) { return s.id === saved; });
      state.storeId = known ? saved : (data.stores[0] && data.stores[0].id);
      return state.stores;
    });
  }
  function storeName(id) {
    var s = (state.stores || []).filter(function (x) { return x.id === id; })[0];
    return s ? s.name : '';
  }
  function catalogue(params) {
    var query = ['location_id=' + state.storeId];
    if (params && params.category) query.push('category=' + encodeURIComponent(params.category));
    if (params && params.q) query.push('q=' + encodeURIComponent(params.q));
    return api('GET', '/products?' + query.join('&')).then(function (data) { return data.products; });
  }

  // ---- layout: title, back button, tab bar, badges ----------------------------------------------------
  // Line icons (24x24, stroke): phones without an emoji font still draw them.
  var ICONS = {
    home: 'M3 11l9-7 9 7M5 10v10h5v-6h4v6h5V10',
    cart: 'M3 4h2l2.4 11h11l2-8H6.2M9 20a1 1 0 100-2 1 1 0 000 2zm8 0a1 1 0 100-2 1 1 0 000 2z',
    orders: 'M6 3h12v18H6zM9 8h6M9 12h6M9 16h4',
    messages: 'M3 6h18v12H3zM3 6l9 7 9-7',
    me: 'M12 12a4 4 0 100-8 4 4 0 000 8zM4 21c0-4 4-6 8-6s8 2 8 6'
  };
  function icon(name) {
    var span = el('span', {class: 'weui-tabbar__icon', 'aria-hidden': 'true'});
    span.innerHTML = '<svg viewBox="0 0 24 24" width="24" height="24" fill="none" stroke="currentColor" stroke-width="1.6" ' +
      'stroke-linecap="round" stroke-linejoin="round"><path d="' + ICONS[name] + '"/></svg>';
    return span;
  }
  var TABS = [
    {path: '/', label: '首页', icon: 'home', id: 'tab-home'},
    {path: '/cart', label: '购物车', icon: 'cart', id: 'tab-cart'},
    {path: '/orders', label: '订单', icon: 'orders', id: 'tab-orders'},
    {path: '/messages', label: '消息', icon: 'messages', id: 'tab-messages'},
    {path: '/me', label: '我的', icon: 'me', id: 'tab-me'}
  ];
  var tabbar = el('nav', {class: 'weui-tabbar mall-tabbar', id: 'mall-tabbar'}, TABS.map(function (t) {
    return el('a', {class: 'weui-tabbar__item', href: t.path, id: t.id, 'data-link': true}, [
      el('span', {class: 'weui-badge', hidden: true}), icon(t.icon), el('p', {class: 'weui-tabbar__label'}, t.label)
    ]);
  }));
  document.getElementById('sl-main').appendChild(tabbar);

  function setBadge(id, n) {
    var badge = document.querySelector('#' + id + ' .weui-badge');
    badge.textContent = n > 99 ? '99+' : String(n);
    badge.hidden = !n;
  }
  function updateBadges() {
    setBadge('tab-cart', cart.count());
    setBadge('tab-messages', state.me ? state.unread : 0);
  }
  function refreshUnread() {
    if (!state.me) return Promise.resolve();
    return api('GET', '/me/messages', null, {quiet: true}).then(function (data) {
      state.unread = data.unread;
      updateBadges();
      return data;
    }, function () { /* the badge can wait */ });
  }
  var parentPath = '/';
  /** Title, tab, and where ‹ leads: the view's logical parent, not the browser history (which may hold
   *  the payment provider's page). */
  function layout(title, tabPath, parent) {
    parentPath = parent || '/';
    titleNode.textContent = title;
    document.title = title === '门店通商城' ? title : title + ' · 门店通商城';
    backButton.hidden = !!tabPath;
    TABS.forEach(function (t) { document.getElementById(t.id).classList.toggle('is-current', t.path === tabPath); });
    tabbar.hidden = !tabPath;
  }

  // ---- router -------------------------------------------------------------------------------------
  var ROUTES = [
    [/^\/$/, home, false], [/^\/products\/([^/]+)$/, productView, false], [/^\/cart$/, cartView, false],
    [/^\/checkout$/, checkoutView, true], [/^\/orders$/, ordersView, true], [/^\/orders\/(\d+)$/, orderView, true],
    [/^\/orders\/(\d+)\/pickup$/, pickupView, true], [/^\/orders\/(\d+)\/return$/, returnView, true], [/^\/messages$/, messagesView, true], [/^\/me$/, meView, true]
  ];

  function go(path, replace) {
    history[replace ? 'replaceState' : 'pushState']({}, '', path);
    render();
  }

  function render() {
    state.timers.forEach(clearInterval);
    state.timers = [];
    state.objectUrls.forEach(function (u) { URL.revokeObjectURL(u); });
    state.objectUrls = [];
    var path = location.pathname.replace(/\/+$/, '') || '/';
    var route = null, match = null;
    for (var i = 0; i < ROUTES.length && !route; i++) {
      match = ROUTES[i][0].exec(path);
      if (match) route = ROUTES[i];
    }
    if (!route) { go('/', true); return; }
    state.route = {path: path, id: match[1]};
    // Each render draws into a fresh container that the view captures (var view = state.page): a view
    // whose data arrives after a newer render (a live status push, a second tap) fills its own detached
    // container instead of appending a second copy of the page. "加载中" shows until the view adds anything.
    state.page = el('div', {class: 'mall-page'}, el('div', {class: 'mall-loading', id: 'mall-loading'}, '加载中…'));
    root.replaceChildren(state.page);
    window.scrollTo(0, 0);
    if (route[2] && !state.me) { askLogin(); return; }
    SL.hideLogin();
    route[1](decodeURIComponent(match[1] || ''));
  }

  document.addEventListener('click', function (event) {
    var link = event.target.closest && event.target.closest('a[data-link]');
    if (!link || event.ctrlKey || event.metaKey) return;
    event.preventDefault();
    go(link.getAttribute('href'));
  });
  window.addEventListener('popstate', render);
  backButton.addEventListener('click', function () { go(parentPath); });

  // ---- login, registration, logout -------------------------------------------------------------------
  function askLogin() {
    layout('登录', null);
    var register = el('button', {type: 'button', class: 'mall-link-btn', id: 'go-register'}, '没有账号?用手机号注册');
    register.addEventListener('click', showRegister);
    SL.loginForm({title: '会员登录', hint: '演示账号 13800000001 / demo1234', extra: register}).then(loggedIn);
  }

  function showRegister() {
    var box = document.getElementById('sl-login');
    var phone = el('input', {class: 'weui-input', id: 'reg-phone', type: 'tel', maxlength: 11, autocomplete: 'tel', placeholder: '11 位手机号'});
    var name = el('input', {class: 'weui-input', id: 'reg-name', maxlength: 50, placeholder: '选填'});
    var password = el('input', {class: 'weui-input', id: 'reg-password', type: 'password', maxlength: 128, autocomplete: 'new-password', placeholder: '至少 8 位,含字母和数字'});
    var error = el('div', {class: 'sl-field-error', id: 'reg-error', role: 'alert'});
    var submit = el('button', {class: 'weui-btn weui-btn_primary', id: 'reg-submit', type: 'submit'}, '注册并登录');
    var back = el('button', {type: 'button', class: 'mall-link-btn'}, '已有账号,去登录');
    back.addEventListener('click', askLogin);
    function cell(label, input) {
      return el('label', {class: 'weui-cell weui-cell_active'}, [
        el('div', {class: 'weui-cell__hd'}, el('span', {class: 'weui-label'}, label)), el('div', {class: 'weui-cell__bd'}, input)]);
    }
    var form = el('form', {novalidate: true}, [
      el('div', {class: 'sl-login__title'}, '注册会员'),
      el('div', {class: 'sl-login__hint'}, '手机号即会员号,门店与线上通用'),
      el('div', {class: 'weui-cells weui-cells_form'}, [cell('手机号', phone), cell('密码', password), cell('昵称', name)]),
      error, el('div', {class: 'sl-login__actions'}, [submit, back])
    ]);
    form.addEventListener('input', function () { error.textContent = ''; });
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      error.textContent = '';
      if (!/^1[3-9]\d{9}$/.test(phone.value.trim())) { error.textContent = '请输入正确的 11 位手机号'; phone.focus(); return; }
      if (password.value.length < 8 || /^\d+$/.test(password.value) || /^[a-zA-Z]+$/.test(password.value)) {
        error.textContent = '密码至少 8 位,需同时包含字母和数字'; password.focus(); return;
      }
      busy(submit, api('POST', '/auth/register', {phone: phone.value.trim(), password: password.value, name: name.value.trim()},
        {auth: false, quiet: true})).then(function (data) {
        SL.setToken(data.token);
        SL.hideLogin();
        SL.toast('注册成功');
        loggedIn(data);
      }, function (err) { error.textContent = SL.politeMessage(err); });
    });
    layout('注册', null);
    box.innerHTML = '';
    box.appendChild(form);
    box.hidden = false;
    document.getElementById('sl-main').hidden = true;
  }

  function loggedIn(me) {
    state.me = me;
    document.getElementById('mall-user').textContent = me.name || '';
    connectSocket();
    refreshUnread();
    render();
  }

  function logout() {
    SL.logout();
    state.me = null;
    state.unread = 0;
    if (state.socket) { state.socket.disconnect(); state.socket = null; }
    document.getElementById('mall-user').textContent = '';
    updateBadges();
    SL.toast('已退出登录');
    go('/');
  }

  SL.onUnauthorized(function () {
    state.me = null;
    if (state.socket) { state.socket.disconnect(); state.socket = null; }
    document.getElementById('mall-user').textContent = '';
    askLogin();
  });

  // ---- live order status over /member ------------------------------------------------------------------
  function connectSocket() {
    if (state.socket || typeof window.io !== 'function') return;
    state.socket = SL.socket('/member', {lastEventId: function () { return state.lastEventId; }});
    var dropped = false;
    state.socket.on('disconnect', function () { dropped = true; });
    state.socket.on('connect', function () {
      // Back after a drop (tunnel, sleep): whatever changed meanwhile is read again, not waited for.
      if (dropped) { dropped = false; render(); refreshUnread(); }
    });
    state.socket.on('order.status', function (event) {
      if (event.event_id) { state.lastEventId = event.event_id; state.heard = true; }  // the last received
      SL.toast('订单状态更新:' + (STATUS[event.status] || event.status));
      var r = state.route || {};
      if (r.path === '/orders' || String(event.order_id) === r.id) render();
      setTimeout(refreshUnread, 300);
    });
  }

  // ---- home: store, search, categories, products ----------------------------------------------------------
  function home() {
    var view = state.page;
    layout('门店通商城', '/');
    var grid = el('div', {class: 'mall-products', id: 'product-list'}, loading());
    var storeSelect = el('select', {class: 'mall-store-select', id: 'store-select', 'aria-label': '选择门店'});
    var search = el('input', {type: 'search', id: 'search', placeholder: '搜索商品', value: state.query, enterkeyhint: 'search'});
    var chips = el('div', {class: 'mall-chips', id: 'categories'});
    view.appendChild(el('div', {class: 'mall-bar'}, [el('span', {class: 'sl-muted'}, '门店'), storeSelect]));
    view.appendChild(el('form', {class: 'mall-search', role: 'search', onsubmit: function (e) {
      e.preventDefault(); state.query = search.value.trim(); search.blur(); drawProducts();
    }}, [search]));
    view.appendChild(chips);
    view.appendChild(grid);
    search.addEventListener('search', function () { state.query = search.value.trim(); drawProducts(); });

    function drawChips(categories) {
      chips.innerHTML = '';
      [''].concat(categories).forEach(function (c) {
        chips.appendChild(el('button', {type: 'button', class: 'mall-chip' + (c === state.category ? ' is-on' : ''),
          onclick: function () { state.category = c; drawChips(categories); drawProducts(); }}, c || '全部'));
      });
    }
    function drawProducts() {
      catalogue({category: state.category, q: state.query}).then(function (products) {
        grid.innerHTML = '';
        if (!products.length) { grid.appendChild(empty(state.query ? '没有找到「' + state.query + '」相关的商品' : '暂无商品')); return; }
        products.forEach(function (p) { grid.appendChild(productCard(p)); });
      });
    }
    stores().then(function (list) {
      list.forEach(function (s) { storeSelect.appendChild(el('option', {value: s.id, selected: s.id === state.storeId}, s.name)); });
      storeSelect.addEventListener('change', function () {
        state.storeId = Number(storeSelect.value);
        store(STORE_KEY, state.storeId);
        drawProducts();
      });
      return catalogue({});
    }).then(function (all) {
      state.catalogue = all;
      var categories = [];
      all.forEach(function (p) { if (categories.indexOf(p.category) < 0) categories.push(p.category); });
      drawChips(categories);
      drawProducts();
    });
  }

  function productCard(p) {
    var add = el('button', {type: 'button', class: 'mall-add', 'aria-label': '加入购物车', disabled: p.available <= 0,
      dataset: {sku: p.sku}}, '+');
    add.addEventListener('click', function (e) {
      e.preventDefault();
      e.stopPropagation();
      if (cart.qty(p.sku) + 1 > p.available) { SL.showError('本店库存不足'); return; }
      cart.add(p.sku, 1);
      SL.toast('已加入购物车');
    });
    return el('a', {class: 'mall-product', href: '/products/' + encodeURIComponent(p.sku), 'data-link': true, dataset: {sku: p.sku}}, [
      tile(p, 'mall-product__pic'),
      el('div', {class: 'mall-product__body'}, [
        el('div', {class: 'mall-product__name'}, p.name),
        el('div', {class: 'mall-product__meta'}, (p.sold_by === 'weight' ? SL.yuan(p.price_per_kg) + '/kg · 约' + p.standard_weight_g + 'g · ' : '') +
          (p.available > 0 ? '库存 ' + p.available : '本店暂时缺货')),
        el('div', {class: 'mall-product__foot'}, priceNodes(p).concat([add]))
      ])
    ]);
  }

  // ---- product detail -------------------------------------------------------------------------------------
  function productView(sku) {
    var view = state.page;
    layout('商品详情', null, '/');
    stores().then(function () { return catalogue({}); }).then(function (products) {
      var p = products.filter(function (x) { return x.sku === sku; })[0];
      if (!p) { view.appendChild(empty('商品不存在或已下架', el('a', {href: '/', 'data-link': true}, '返回首页'))); return; }
      var qty = 1;
      var shown = el('span', {id: 'detail-qty'}, '1');
      function step(d) {
        qty = Math.max(1, Math.min(qty + d, Math.max(1, p.available)));
        shown.textContent = String(qty);
      }
      view.appendChild(tile(p, 'mall-detail__pic'));
      view.appendChild(el('div', {class: 'mall-detail__body'}, [
        el('div', {class: 'mall-detail__price'}, priceNodes(p).concat(
          p.sold_by === 'weight' ? [el('span', {class: 'sl-muted'}, SL.yuan(p.price_per_kg) + '/kg')] : [])),
        el('div', {class: 'mall-detail__name', id: 'detail-name'}, p.name),
        el('div', {class: 'sl-muted'}, p.category + ' · 商品编码 ' + p.sku),
        weighedNote(p)
      ]));
      view.appendChild(el('div', {class: 'mall-kv'}, [
        el('div', {}, [el('span', {}, '门店'), el('span', {}, storeName(state.storeId))]),
        el('div', {}, [el('span', {}, '门店库存'), el('span', {id: 'detail-stock'}, p.available > 0 ? p.available + ' ' + (p.unit || '件') : '暂时缺货')]),
        el('div', {}, [el('span', {}, '数量'), el('span', {}, el('span', {class: 'mall-stepper'}, [
          el('button', {type: 'button', 'aria-label': '减少', onclick: function () { step(-1); }}, '−'), shown,
          el('button', {type: 'button', 'aria-label': '增加', id: 'detail-plus', onclick: function () { step(1); }}, '+')]))])
      ]));
      view.appendChild(el('div', {class: 'mall-actions'}, [
        button('加入购物车', {class: 'weui-btn_default', id: 'detail-add', disabled: p.available <= 0}, function () {
          if (cart.qty(p.sku) + qty > p.available) { SL.showError('本店库存不足'); return; }
          cart.add(p.sku, qty);
          SL.toast('已加入购物车');
        }),
        button('立即购买', {id: 'detail-buy', disabled: p.available <= 0}, function () {
          if (cart.qty(p.sku) < qty) cart.set(p.sku, qty);
          go('/checkout');
        })
      ]));
    });
  }

  // ---- cart ------------------------------------------------------------------------------------------------
  function cartView() {
    var view = state.page;
    layout('购物车', '/cart');
    var items = cart.items();
    if (!items.length) {
      view.appendChild(empty('购物车是空的', el('a', {href: '/', 'data-link': true, class: 'weui-btn weui-btn_mini weui-btn_primary'}, '去逛逛')));
      return;
    }
    stores().then(function () { return catalogue({}); }).then(function (products) {
      var bySku = {};
      products.forEach(function (p) { bySku[p.sku] = p; });
      var list = el('div', {id: 'cart-lines'});
      var total = 0;
      cart.items().forEach(function (item) {
        var p = bySku[item.sku];
        if (!p) { cart.set(item.sku, 0); return; }
        total += p.price * item.qty;
        list.appendChild(el('div', {class: 'mall-cart-line', dataset: {sku: p.sku}}, [
          tile(p, 'mall-product__pic mall-cart-line__pic'),
          el('div', {class: 'mall-cart-line__main'}, [
            el('div', {class: 'mall-cart-line__name'}, p.name),
            el('div', {class: 'sl-muted'}, SL.yuan(p.price) + (p.sold_by === 'weight' ? ' /' + (p.unit || '只') + '(约' + p.standard_weight_g + 'g)' : '') +
              (item.qty > p.available ? ' · 本店库存仅 ' + p.available : '')),
            el('button', {type: 'button', class: 'mall-cart-line__remove', onclick: function () { cart.set(p.sku, 0); render(); }}, '删除')
          ]),
          el('span', {class: 'mall-stepper'}, [
            el('button', {type: 'button', 'aria-label': '减少', onclick: function () { cart.set(p.sku, item.qty - 1); render(); }}, '−'),
            el('span', {}, String(item.qty)),
            el('button', {type: 'button', 'aria-label': '增加', class: 'cart-plus', onclick: function () { cart.set(p.sku, item.qty + 1); render(); }}, '+')
          ])
        ]));
      });
      view.appendChild(list);
      view.appendChild(el('div', {class: 'mall-muted-note sl-muted', style: 'padding:10px 16px'}, '库存以「' + storeName(state.storeId) + '」为准;结算时按取货方式重新核对。'));
      view.appendChild(el('div', {class: 'mall-sumbar'}, [
        el('div', {class: 'mall-sumbar__total'}, ['合计 ', el('span', {class: 'mall-price', id: 'cart-total'}, SL.yuan(total))]),
        el('a', {class: 'weui-btn weui-btn_primary', href: '/checkout', 'data-link': true, id: 'go-checkout'}, '去结算')
      ]));
    });
  }

  // ---- checkout -----------------------------------------------------------------------------------------------
  function checkoutView() {
    var view = state.page;
    layout('确认订单', null, '/cart');
    if (!cart.items().length) { view.appendChild(empty('购物车是空的', el('a', {href: '/', 'data-link': true}, '去逛逛'))); return; }
    var c = {method: 'pickup', storeId: null, payment: 'online', point: null, addressId: null, accept: false, quote: null,
             saved: [], picker: null, fresh: {detail: '', contact_name: state.me.name || '', contact_phone: state.me.phone || '', keep: true}};
    var methodBar = el('div', {class: 'mall-methods', id: 'methods'});
    var body = el('div', {id: 'checkout-body'});
    var quoteBox = el('div', {id: 'quote'});
    var submit = button('提交订单', {id: 'place-order', disabled: true}, placeOrder);
    var totalNode = el('span', {class: 'mall-price', id: 'checkout-total'}, '—');
    view.appendChild(methodBar);
    view.appendChild(body);
    view.appendChild(quoteBox);
    view.appendChild(el('div', {style: 'height:64px'}));
    view.appendChild(el('div', {class: 'mall-sumbar', style: 'bottom:0'}, [el('div', {class: 'mall-sumbar__total'}, ['应付 ', totalNode]), submit]));

    Object.keys(METHODS).forEach(function (m) {
      methodBar.appendChild(el('button', {type: 'button', class: 'mall-method', id: 'method-' + m, dataset: {method: m},
        onclick: function () { c.method = m; c.accept = false; drawBody(); }}, METHODS[m]));
    });

    function drawBody() {
      methodBar.querySelectorAll('.mall-method').forEach(function (b) { b.classList.toggle('is-on', b.dataset.method === c.method); });
      body.innerHTML = '';
      if (c.method === 'pickup') drawPickup(); else drawAddress();
      requote();
    }

    // 门店自提: stores with their stock for the cart, nearest first once the browser gives a location
    function drawPickup() {
      var list = el('div', {id: 'pickup-stores'});
      var locate = el('button', {type: 'button', class: 'mall-link-btn', id: 'locate'}, '按离我最近排序');
      body.appendChild(el('div', {class: 'mall-section-title', style: 'display:flex;justify-content:space-between;align-items:center;padding-right:0'}, ['选择自提门店', locate]));
      body.appendChild(list);
      function draw() {
        var request = {items: cart.body()};
        if (c.point) { request.lat = c.point.lat; request.lng = c.point.lng; }
        api('POST', '/stores/pickup-options', request).then(function (data) {
          list.innerHTML = '';
          if (!c.storeId || !data.stores.some(function (s) { return s.id === c.storeId; })) {
            // The store the shopper browsed, if it holds the cart; else the first (nearest) that does.
            var holding = data.stores.filter(function (s) { return s.has_all; });
            var browsed = holding.filter(function (s) { return s.id === state.storeId; })[0];
            var first = browsed || holding[0] || data.stores[0];
            c.storeId = first ? first.id : null;
          }
          data.stores.forEach(function (s) {
            var short = s.stock.filter(function (x) { return x.available < x.qty; });
            list.appendChild(el('label', {class: 'mall-option', dataset: {store: s.id}}, [
              el('input', {type: 'radio', name: 'pickup-store', value: s.id, checked: s.id === c.storeId,
                onchange: function () { c.storeId = s.id; requote(); }}),
              el('div', {class: 'mall-option__main'}, [
                el('div', {}, [s.name, el('span', {class: 'mall-tag ' + (s.has_all ? 'mall-tag_ok' : 'mall-tag_warn')}, s.has_all ? '有货' : '库存不足')]),
                el('div', {class: 'mall-option__sub'}, [s.address, s.distance_m !== null ? ' · 距您 ' + distance(s.distance_m) : ''].join('')),
                short.length ? el('div', {class: 'mall-option__sub'}, short.map(function (x) { return (x.name || x.sku) + ' 仅剩 ' + x.available; }).join(',')) : null
              ])
            ]));
          });
          requote();
        });
      }
      locate.addEventListener('click', function () {
        if (!navigator.geolocation) { SL.showError('此浏览器不能定位,按门店顺序显示'); return; }
        locate.textContent = '定位中…';
        navigator.geolocation.getCurrentPosition(function (pos) {
          c.point = {lat: pos.coords.latitude, lng: pos.coords.longitude};
          locate.textContent = '已按距离排序';
          draw();
        }, function () {
          locate.textContent = '按离我最近排序';
          SL.showError('无法获取您的位置,请在浏览器中允许定位');
        }, {timeout: 8000, maximumAge: 600000});
      });
      body.appendChild(section('支付方式'));
      body.appendChild(el('div', {id: 'payment-options'}, ['online', 'at_store'].map(function (p) {
        return el('label', {class: 'mall-option'}, [
          el('input', {type: 'radio', name: 'payment', value: p, id: 'payment-' + p, checked: c.payment === p,
            onchange: function () { c.payment = p; requote(); }}),
          el('div', {class: 'mall-option__main'}, [PAYMENT[p], el('div', {class: 'mall-option__sub'},
            p === 'online' ? '现在支付,支付后生成提货码' : '到店付款后取货,下单即生成提货码')])
        ]);
      })));
      draw();
    }

    // 门店配送 / 快递: a saved address or a new one (4-level region picker, detail, contact)
    function drawAddress() {
      c.payment = 'online';
      var list = el('div', {id: 'saved-addresses'});
      var form = el('div', {id: 'new-address', class: 'mall-form', hidden: true});
      body.appendChild(section('收货地址'));
      body.appendChild(list);
      body.appendChild(form);
      api('GET', '/me/addresses').then(function (data) {
        c.saved = data.addresses;
        if (c.addressId && !c.saved.some(function (a) { return a.id === c.addressId; })) c.addressId = null;
        if (c.addressId === null && c.saved.length) c.addressId = c.saved[0].id;
        c.saved.forEach(function (a) {
          list.appendChild(el('label', {class: 'mall-option'}, [
            el('input', {type: 'radio', name: 'address', value: a.id, checked: a.id === c.addressId,
              onchange: function () { c.addressId = a.id; form.hidden = true; requote(); }}),
            el('div', {class: 'mall-option__main'}, [a.contact_name + ' ' + a.contact_phone,
              el('div', {class: 'mall-option__sub'}, [a.province, a.city, a.district, a.street, a.detail].join(' '))])
          ]));
        });
        list.appendChild(el('label', {class: 'mall-option'}, [
          el('input', {type: 'radio', name: 'address', value: 'new', id: 'address-new', checked: !c.saved.length,
            onchange: function () { c.addressId = 'new'; form.hidden = false; requote(); }}),
          el('div', {class: 'mall-option__main'}, '新增收货地址')
        ]));
        if (!c.saved.length) { c.addressId = 'new'; form.hidden = false; }
        drawForm();
        requote();
      });
      function drawForm() {
        c.picker = SL.regionPicker(requote);
        function input(label, key, attrs) {
          var node = el('input', Object.assign({class: 'weui-input', id: 'address-' + key.replace('_', '-'), value: c.fresh[key]}, attrs));
          // Detail and contact do not change the quote: typing them must not re-quote (a re-quote on
          // blur would disable the submit button under the shopper's finger).
          node.addEventListener('input', function () { c.fresh[key] = node.value.trim(); fieldError(key, ''); });
          return [el('label', {class: 'weui-cell weui-cell_active'}, [
            el('div', {class: 'weui-cell__hd'}, el('span', {class: 'weui-label'}, label)), el('div', {class: 'weui-cell__bd'}, node)]),
            el('div', {class: 'sl-field-error', id: FIELD_ERRORS[key], role: 'alert'})];
        }
        form.appendChild(c.picker.node);
        form.appendChild(el('div', {class: 'sl-field-error', id: 'region-error', role: 'alert'}));
        form.appendChild(el('div', {class: 'weui-cells weui-cells_form', style: 'margin-top:0'}, [].concat(
          input('详细地址', 'detail', {maxlength: 200, placeholder: '楼栋、门牌号'}),
          input('收货人', 'contact_name', {maxlength: 50, placeholder: '姓名'}),
          input('手机号', 'contact_phone', {type: 'tel', maxlength: 11, placeholder: '11 位手机号'})
        )));
        form.appendChild(el('label', {class: 'mall-check'}, [
          el('input', {type: 'checkbox', id: 'address-keep', checked: c.fresh.keep, onchange: function (e) { c.fresh.keep = e.target.checked; }}),
          '保存到我的收货地址']));
      }
    }

    function chosenAddress() {
      if (c.addressId && c.addressId !== 'new') {
        var a = c.saved.filter(function (x) { return x.id === c.addressId; })[0];
        if (!a) return null;
        return {address: {province: a.province, city: a.city, district: a.district, street: a.street, detail: a.detail},
                contact_name: a.contact_name, contact_phone: a.contact_phone};
      }
      var regions = c.picker && c.picker.value();
      if (!regions) return null;
      regions.detail = c.fresh.detail;
      return {address: regions, contact_name: c.fresh.contact_name, contact_phone: c.fresh.contact_phone, fresh: true};
    }

    function request() {
      var r = {items: cart.body(), fulfilment: c.method, payment: c.payment};
      if (c.method === 'pickup') {
        if (!c.storeId) return null;
        r.store_id = c.storeId;
        r.contact_name = state.me.name || '';
        return r;
      }
      var chosen = chosenAddress();
      if (!chosen) return null;
      r.address = chosen.address;
      r.contact_name = chosen.contact_name;
      r.contact_phone = chosen.contact_phone;
      return r;
    }

    var quoteSeq = 0, quotedKey = null;
    function requote() {
      var r = request();
      var key = r && JSON.stringify([r.items, r.fulfilment, r.payment, r.store_id, r.address &&
        [r.address.province, r.address.city, r.address.district, r.address.street]]);
      if (key && key === quotedKey && c.quote) return;  // nothing that decides the quote changed
      quotedKey = key;
      var seq = ++quoteSeq;
      submit.disabled = true;
      c.quote = null;
      if (!r) {  // say what is missing: a greyed-out 提交订单 alone does not tell the shopper why
        quoteBox.replaceChildren(el('div', {class: 'mall-warn', id: 'quote-missing'}, c.method === 'pickup' ? '请选择自提门店' :
          '请选择收货地区(省份、城市、区县、乡镇/街道),确认配送门店和运费'));
        totalNode.textContent = '—';
        return;
      }
      api('POST', '/orders/quote', r, {quiet: true}).then(function (q) {
        if (seq !== quoteSeq) return;
        c.quote = q;
        drawQuote(q);
      }, function (err) {
        if (seq !== quoteSeq) return;
        quotedKey = null;
        quoteBox.innerHTML = '';
        quoteBox.appendChild(el('div', {class: 'mall-warn', id: 'quote-error'}, SL.politeMessage(err)));
        totalNode.textContent = '—';
      });
    }

    function drawQuote(q) {
      quoteBox.innerHTML = '';
      var rows = [
        el('div', {class: 'mall-quote__row'}, [el('span', {}, '配送方式'), el('span', {id: 'quote-method'}, q.fulfilment_label)]),
        el('div', {class: 'mall-quote__row'}, [el('span', {}, q.fulfilment === 'pickup' ? '自提门店' : '发货地'), el('span', {id: 'quote-location'}, q.location.name)])
      ];
      q.lines.forEach(function (l) {
        rows.push(el('div', {class: 'mall-quote__row'}, [
          el('span', {}, [l.name + ' ×' + l.qty, l.in_stock ? null : el('span', {class: 'mall-tag mall-tag_warn'}, '仅剩 ' + l.available)]),
          el('span', {}, SL.yuan(l.line_total))]));
      });
      rows.push(el('div', {class: 'mall-quote__row'}, [el('span', {}, '商品金额'), el('span', {}, SL.yuan(q.goods_total))]));
      rows.push(el('div', {class: 'mall-quote__row'}, [el('span', {}, '配送费'), el('span', {id: 'quote-fee'},
        q.delivery_fee ? SL.yuan(q.delivery_fee) : (q.fulfilment === 'pickup' ? '无' : '免配送费'))]));
      if (q.delivery_fee && q.free_delivery_from) {
        rows.push(el('div', {class: 'mall-quote__reason'}, '满 ' + SL.yuan(q.free_delivery_from) + ' 免配送费'));
      }
      rows.push(el('div', {class: 'mall-quote__row mall-quote__total'}, [el('span', {}, '应付'), el('span', {class: 'mall-price', id: 'quote-total'}, SL.yuan(q.total))]));
      rows.push(el('div', {class: 'mall-quote__reason', id: 'quote-reason'}, '路由说明:' + q.reason));
      quoteBox.appendChild(el('div', {class: 'mall-quote'}, rows));
      if (q.method_changed) {
        var accept = el('input', {type: 'checkbox', id: 'accept-change', checked: c.accept,
          onchange: function (e) { c.accept = e.target.checked; submit.disabled = !canSubmit(); }});
        quoteBox.appendChild(el('div', {class: 'mall-warn', id: 'method-change'}, [q.notice,
          el('label', {}, [accept, '我同意改为' + q.fulfilment_label + '(配送费 ' + SL.yuan(q.delivery_fee) + ')'])]));
      }
      if (!q.in_stock) quoteBox.appendChild(el('div', {class: 'mall-warn'}, '所选门店库存不足,请减少数量或换一家门店。'));
      totalNode.textContent = SL.yuan(q.total);
      submit.disabled = !canSubmit();
    }

    function canSubmit() { return !!c.quote && c.quote.in_stock && (!c.quote.method_changed || c.accept); }

    // Errors sit next to the field they are about (the server names it in error.details.field).
    var FIELD_ERRORS = {detail: 'address-detail-error', contact_name: 'address-contact-name-error',
      contact_phone: 'address-contact-phone-error', province: 'region-error', city: 'region-error',
      district: 'region-error', street: 'region-error'};
    function fieldError(field, message) {
      var node = FIELD_ERRORS[field] && document.getElementById(FIELD_ERRORS[field]);
      if (node) node.textContent = message;
      else if (message) SL.showError(message);
      return !!message;
    }

    function placeOrder() {
      var r = request();
      if (!r || !canSubmit()) return;
      Object.keys(FIELD_ERRORS).forEach(function (f) { fieldError(f, ''); });
      if (c.method !== 'pickup') {
        var chosen = chosenAddress();
        if (!chosen.address.detail) { fieldError('detail', '请填写详细地址(楼栋、门牌号)'); return; }
        if (!chosen.contact_name) { fieldError('contact_name', '请填写收货人姓名'); return; }
        if (!/^1[3-9]\d{9}$/.test(chosen.contact_phone || '')) { fieldError('contact_phone', '请填写正确的 11 位手机号'); return; }
      }
      r.accept_method_change = c.quote.method_changed && c.accept;
      var saving = Promise.resolve();
      var chosenNow = c.method !== 'pickup' ? chosenAddress() : null;
      if (chosenNow && chosenNow.fresh && c.fresh.keep) {
        saving = api('POST', '/me/addresses', {address: chosenNow.address, contact_name: chosenNow.contact_name,
          contact_phone: chosenNow.contact_phone}, {quiet: true}).catch(function () { /* the order matters more */ });
      }
      busy(submit, saving.then(function () {
        return api('POST', '/orders', r, {headers: {'Idempotency-Key': randomKey()}, quiet: true});
      }).then(function (order) {
        cart.clear();
        if (order.payment_method === 'online') return startPayment(order.id);
        SL.toast('下单成功');
        go(order.fulfilment === 'pickup' ? '/orders/' + order.id + '/pickup' : '/orders/' + order.id, true);
      })).catch(function (err) {
        fieldError(err.details && err.details.field, SL.politeMessage(err));
        if (err.code === 'fulfilment_changed' || err.code === 'out_of_stock') { quotedKey = null; requote(); }
      });
    }

    drawBody();
  }

  function startPayment(orderId) {
    return api('POST', '/orders/' + orderId + '/pay').then(function (data) {
      history.replaceState({}, '', '/orders/' + orderId);  // back from the provider lands on the order
      window.location.href = data.pay_url;
    });
  }

  // ---- orders ---------------------------------------------------------------------------------------------------
  function ordersView() {
    var view = state.page;
    layout('我的订单', '/orders');
    var list = el('div', {id: 'order-list'}, loading());
    view.appendChild(list);
    api('GET', '/orders?limit=50').then(function (data) {
      list.innerHTML = '';
      if (!data.orders.length) { list.appendChild(empty('还没有订单', el('a', {href: '/', 'data-link': true}, '去逛逛'))); return; }
      data.orders.forEach(function (o) {
        var done = FINISHED.indexOf(o.status) >= 0;
        list.appendChild(el('a', {class: 'mall-order', href: '/orders/' + o.id, 'data-link': true, dataset: {order: o.id}}, [
          el('div', {class: 'mall-order__head'}, [el('span', {}, METHODS[o.fulfilment] + ' · ' + when(o.created_at)),
            el('span', {class: 'mall-order__status' + (done ? ' is-done' : '')}, STATUS[o.status] || o.status)]),
          el('div', {class: 'mall-order__items'}, o.lines.map(function (l) { return l.name + '×' + l.qty; }).join(',')),
          el('div', {class: 'mall-order__foot'}, [el('span', {class: 'sl-muted'}, '订单号 ' + o.number), el('span', {}, (o.payment_status === 'unpaid' ? '待付 ' : '实付 ') + SL.yuan(o.total))])
        ]));
      });
    });
  }

  function timeLeft(expiresAt) {
    var ms = new Date(expiresAt).getTime() - Date.now();
    if (ms <= 0) return null;
    var s = Math.floor(ms / 1000);
    return two(Math.floor(s / 60)) + ':' + two(s % 60);
  }

  function orderView(id) {
    var view = state.page;
    layout('订单详情', null, '/orders');
    stores().then(function () { return api('GET', '/orders/' + id, null, {quiet: true}); }).then(function (o) {
      // Until a push arrives, the order's newest history entry is where a reconnect resumes.
      if (!state.heard) (o.events || []).forEach(function (e) { if (e.id && e.id > state.lastEventId) state.lastEventId = e.id; });
      var sub = el('div', {class: 'mall-status-card__sub', id: 'order-sub'});
      var closed = FINISHED.indexOf(o.status) >= 0 && o.status !== 'completed';
      view.appendChild(el('div', {class: 'mall-status-card' + (closed ? ' is-closed' : '')}, [
        el('div', {class: 'mall-status-card__label', id: 'order-status'}, STATUS[o.status] || o.status_label), sub]));
      if (o.status === 'pending_payment' && o.expires_at) {
        var tick = function () {
          var left = timeLeft(o.expires_at);
          sub.textContent = left ? '请在 ' + left + ' 内完成支付,超时订单将自动取消' : '支付时间已到,订单即将关闭';
        };
        tick();
        every(1000, tick);
      } else {
        var paid = o.payment_status !== 'unpaid';
        sub.textContent = {
          awaiting_acceptance: paid ? '已付款,等待门店接单' : '等待门店接单', accepted: '门店正在备货',
          ready_for_pickup: '商品已备好,请到店出示提货码', ready_to_ship: '等待发货',
          shipped: '商品已发出,收到后请确认收货', completed: '订单已完成,感谢您的光临',
          rejected: paid ? '您已拒收,货物退回门店后款项原路退回' : '您已拒收,订单已关闭',
          cancelled: o.payment_status === 'refunded' ? '订单已取消,款项已原路退回' : '订单已取消',
          expired: '超时未支付,订单已自动关闭'
        }[o.status] || '';
      }
      var actions = [];
      if (o.status === 'pending_payment' && o.payment_method === 'online') {
        actions.push(button('去支付', {id: 'pay-order'}, function (e) { busy(e.target, startPayment(o.id)).catch(function () {}); }));
      }
      if (o.fulfilment === 'pickup' && o.pickup) {
        actions.push(button('查看提货码', {id: 'show-pickup'}, function () { go('/orders/' + o.id + '/pickup'); }));
      }
      if (o.status === 'shipped' && o.fulfilment !== 'pickup' && o.payment_status === 'paid') {
        actions.push(button('确认收货', {id: 'confirm-receipt'}, function (e) {
          var btn = e.target;
          SL.confirm('确认已收到全部商品?', {ok: '确认收货'}).then(function (yes) {
            if (!yes) return;
            busy(btn, api('POST', '/orders/' + o.id + '/confirm-receipt')).then(function () { SL.toast('已确认收货'); render(); }, function () {});
          });
        }));
      }
      if (o.return_options && o.return_options.lines.some(function (l) { return l.returnable > 0; })) {
        actions.push(button('申请退货', {id: 'request-return', class: 'weui-btn_default'}, function () { go('/orders/' + o.id + '/return'); }));
      }
      if (o.status === 'pending_payment' || o.status === 'awaiting_acceptance') {
        actions.push(button('取消订单', {id: 'cancel-order', class: 'weui-btn_default'}, function (e) {
          var btn = e.target;
          SL.confirm(o.payment_status === 'paid' ? '取消后款项将原路退回,确定取消?' : '确定取消这个订单?', {ok: '取消订单', cancel: '再想想'}).then(function (yes) {
            if (!yes) return;
            busy(btn, api('POST', '/orders/' + o.id + '/cancel', {reason: '会员取消'})).then(function () { SL.toast('订单已取消'); render(); }, function () {});
          });
        }));
      }
      if (actions.length) view.appendChild(el('div', {class: 'mall-actions', id: 'order-actions'}, actions));
      // Returns (退货): each one's state, with 撤销 / 填写快递单号 (static/js/returns-member.js).
      if (o.returns && o.returns.length) view.appendChild(SL.returnsSection(o, {storeName: storeName(o.location_id), onChange: render}));

      var place = o.fulfilment === 'pickup'
        ? [el('div', {}, [el('span', {}, '自提门店'), el('span', {}, storeName(o.location_id))])]
        : [el('div', {}, [el('span', {}, '收货人'), el('span', {}, (o.contact_name || '') + ' ' + (o.contact_phone || ''))]),
           el('div', {}, [el('span', {}, '收货地址'), el('span', {}, o.address ? [o.address.province, o.address.city, o.address.district, o.address.street, o.address.detail].join(' ') : '')])];
      view.appendChild(section('订单信息'));
      view.appendChild(el('div', {class: 'mall-kv', id: 'order-info'}, [
        el('div', {}, [el('span', {}, '订单号'), el('span', {id: 'order-number'}, o.number)]),
        el('div', {}, [el('span', {}, '配送方式'), el('span', {}, METHODS[o.fulfilment])]),
        el('div', {}, [el('span', {}, '支付'), el('span', {}, PAYMENT[o.payment_method] + ' · ' + (PAY_STATUS[o.payment_status] || o.payment_status))]),
        el('div', {}, [el('span', {}, '下单时间'), el('span', {}, when(o.created_at))])
      ].concat(place)));
      view.appendChild(section('商品'));
      view.appendChild(el('div', {class: 'mall-kv'}, o.lines.map(function (l) {
        return el('div', {}, [el('span', {}, l.name + ' ×' + l.qty + (l.standard_weight_g ? '(约 ' + l.standard_weight_g * l.qty + 'g)' : '')), el('span', {}, SL.yuan(l.line_total))]);
      }).concat([
        el('div', {}, [el('span', {}, '配送费'), el('span', {}, SL.yuan(o.delivery_fee))]),
        el('div', {}, [el('span', {}, '合计'), el('span', {class: 'mall-price'}, SL.yuan(o.total))])
      ])));
      // Fresh goods re-weighed at the store: the settlement and any top-up to pay (static/js/weighing-member.js).
      if (SL.weighingCard && o.lines.some(function (l) { return l.price_per_kg; })) view.appendChild(SL.weighingCard(o.id, null, {paymentMethod: o.payment_method}));
      // Refunds: back to the original route, or (money paid at the store) collected at the store's counter.
      if (o.refunds && o.refunds.length) {
        view.appendChild(section('退款'));
        view.appendChild(el('div', {class: 'mall-kv', id: 'order-refunds'}, o.refunds.map(function (r) {
          var where = r.route === 'store'
            ? (r.status === 'at_store' ? '请到' + storeName(o.location_id) + '柜台领取' : [r.status_label, r.done_at ? el('small', {}, when(r.done_at)) : null])
            : r.status_label;
          return el('div', {dataset: {refundId: r.id}}, [el('span', {}, SL.yuan(r.amount) + ' · ' + (r.reason || '退款')), el('span', {}, where)]);
        })));
      }
      view.appendChild(section('订单跟踪'));
      view.appendChild(el('ul', {class: 'mall-timeline', id: 'order-timeline'}, (o.events || []).map(function (e) {
        var what = e.to ? (STATUS[e.to] || e.to) : '';
        if (e.kind === 'placed') what = '提交订单 · ' + what;
        else if (e.kind && e.kind !== 'status' && !e.to) what = EVENT_KIND[e.kind] || e.kind;
        // The placing event's reason is the routing rule (为何由此店发货): staff talk, not the shopper's.
        var why = e.reason && e.kind !== 'placed' ? ':' + e.reason : '';
        return el('li', {}, [el('div', {class: 'mall-timeline__what'}, what + why),
          el('div', {class: 'mall-timeline__when'}, when(e.at))]);
      })));
    }).catch(function (err) { orderMissing(view, err); });
  }

  function returnView(id) {
    var view = state.page;
    layout('申请退货', null, '/orders/' + id);
    api('GET', '/orders/' + id, null, {quiet: true}).then(function (o) {
      SL.returnForm(view, o, {onDone: function () { go('/orders/' + id, true); }});
    }).catch(function (err) { orderMissing(view, err); });
  }

  // ---- pickup code --------------------------------------------------------------------------------------------------
  function pickupView(id) {
    var view = state.page;
    layout('提货码', null, '/orders/' + id);
    stores().then(function () { return api('GET', '/orders/' + id, null, {quiet: true}); }).then(function (o) {
      var box = el('div', {class: 'mall-pickup', id: 'pickup'});
      view.appendChild(box);
      box.appendChild(el('div', {class: 'mall-order__status' + (FINISHED.indexOf(o.status) >= 0 ? ' is-done' : ''), id: 'pickup-status'},
        STATUS[o.status] || o.status));
      var code = o.pickup;
      if (o.fulfilment !== 'pickup') {
        box.appendChild(el('p', {}, '这是配送订单,无需提货码。'));
      } else if (!code) {
        box.appendChild(el('p', {id: 'pickup-none'}, o.payment_status === 'paid' ? '提货码生成中,请稍后刷新' : '订单支付后才会生成提货码'));
      } else if (code.status !== 'open') {
        box.appendChild(el('p', {id: 'pickup-closed'}, code.handed_over_at ? '已于 ' + when(code.handed_over_at) + ' 提货' : '提货码已失效'));
      } else {
        var img = el('img', {class: 'mall-pickup__qr', id: 'pickup-qr', alt: '提货二维码'});
        box.appendChild(el('div', {class: 'sl-muted'}, '请向店员出示二维码'));
        box.appendChild(img);
        box.appendChild(el('div', {class: 'sl-muted'}, '或告知提货码'));
        box.appendChild(el('div', {class: 'mall-pickup__code', id: 'pickup-code'}, code.code_display || code.code));
        if (code.deadline_at) box.appendChild(el('div', {class: 'sl-muted'}, '请于 ' + when(code.deadline_at) + ' 前提货'));
        if (o.status === 'awaiting_acceptance' || o.status === 'accepted') {  // the code exists from payment on
          box.appendChild(el('div', {class: 'mall-note', id: 'pickup-not-ready'}, '门店正在备货,备好后会通知您,收到通知再到店提货'));
        }
        if (o.payment_status === 'unpaid') {
          box.appendChild(el('div', {class: 'mall-note', id: 'pickup-pay-at-store'}, '到店付款 ' + SL.yuan(o.total) + ',提货时向店员支付'));
        }
        loadQr(o.id, img);
        every(60000, function () { loadQr(o.id, img); });  // the signed QR expires: fetch a fresh one
      }
      box.appendChild(el('div', {class: 'mall-pickup__store'}, '自提门店:' + storeName(o.location_id)));
      box.appendChild(el('div', {class: 'sl-muted'}, '订单号 ' + o.number));
      view.appendChild(el('div', {class: 'mall-actions'}, [
        el('a', {class: 'weui-btn weui-btn_default', href: '/orders/' + o.id, 'data-link': true}, '查看订单详情')]));
    }).catch(function (err) { orderMissing(view, err); });
  }

  /** The order could not be read (a wrong link, another member's order, the network): say so and lead back. */
  function orderMissing(view, err) {
    view.replaceChildren(empty(err && err.status === 404 ? '订单不存在或不属于当前账号' : SL.politeMessage(err),
      el('a', {href: '/orders', 'data-link': true, class: 'weui-btn weui-btn_mini weui-btn_primary', id: 'back-to-orders'}, '查看我的订单')));
  }

  /** The QR is the member's alone: fetched with the bearer token, shown from a blob URL. */
  function loadQr(orderId, img) {
    return fetch('/api/v1/orders/' + orderId + '/pickup-qr.png', {headers: {Authorization: 'Bearer ' + SL.token()}, cache: 'no-store'})
      .then(function (r) {
        if (!r.ok) throw new SL.ApiError(r.status, 'qr_failed', '提货二维码暂时无法显示,请使用数字提货码');
        return r.blob();
      }).then(function (blob) {
        var url = URL.createObjectURL(blob);
        state.objectUrls.push(url);
        img.src = url;
      }).catch(function (err) { SL.showError(err); });
  }

  // ---- messages -------------------------------------------------------------------------------------------------------
  function messagesView() {
    var view = state.page;
    layout('消息中心', '/messages');
    var list = el('div', {id: 'message-list'}, loading());
    view.appendChild(list);
    api('GET', '/me/messages').then(function (data) {
      list.innerHTML = '';
      state.unread = data.unread;
      updateBadges();
      if (!data.messages.length) { list.appendChild(empty('暂无消息')); return; }
      if (data.unread) {
        list.appendChild(el('div', {style: 'text-align:right'}, el('button', {type: 'button', class: 'mall-link-btn', id: 'read-all',
          onclick: function (e) {
            e.target.disabled = true;
            api('POST', '/me/messages/read-all').then(function () { SL.toast('已全部标为已读'); render(); refreshUnread(); },
              function () { e.target.disabled = false; });
          }}, '全部标为已读(' + data.unread + ')')));
      }
      data.messages.forEach(function (m) {
        list.appendChild(el('a', {class: 'mall-message', href: m.link, dataset: {kind: m.kind}, onclick: function (e) {
          e.preventDefault();
          e.stopPropagation();
          var read = m.read ? Promise.resolve() : api('POST', '/me/messages/' + m.id + '/read', null, {quiet: true}).catch(function () {});
          read.then(function () { go(m.link); refreshUnread(); });
        }}, [
          el('div', {class: 'mall-message__title'}, [el('span', {}, m.title), m.read ? null : el('span', {class: 'weui-badge weui-badge_dot'})]),
          el('div', {class: 'mall-message__text'}, m.text),
          el('div', {class: 'mall-message__when'}, when(m.created_at))
        ]));
      });
    });
  }

  // ---- me: account, addresses, logout --------------------------------------------------------------------------------------
  /** 138****0001, as shoppers are used to seeing their own number on a shared screen. */
  function maskedPhone(phone) {
    return phone && phone.length === 11 ? phone.slice(0, 3) + '****' + phone.slice(7) : phone || '';
  }

  function meView() {
    var view = state.page;
    layout('我的', '/me');
    view.appendChild(el('div', {class: 'mall-profile'}, [
      el('div', {class: 'mall-avatar'}, (state.me.name || '会').charAt(0)),
      el('div', {}, [el('div', {style: 'font-size:17px;font-weight:600', id: 'me-name'}, state.me.name || '会员'), el('div', {class: 'sl-muted', id: 'me-phone'}, maskedPhone(state.me.phone) || '会员')])
    ]));
    view.appendChild(el('div', {class: 'weui-cells'}, [
      el('a', {class: 'weui-cell weui-cell_access', href: '/orders', 'data-link': true}, [el('div', {class: 'weui-cell__bd'}, '我的订单'), el('div', {class: 'weui-cell__ft'})]),
      el('a', {class: 'weui-cell weui-cell_access', href: '/messages', 'data-link': true}, [el('div', {class: 'weui-cell__bd'}, '消息中心'), el('div', {class: 'weui-cell__ft'})])
    ]));
    view.appendChild(section('收货地址'));
    var list = el('div', {id: 'my-addresses'});
    view.appendChild(list);
    api('GET', '/me/addresses').then(function (data) {
      if (!data.addresses.length) { list.appendChild(el('div', {class: 'mall-option sl-muted'}, '结算时填写的新地址可保存在这里')); return; }
      data.addresses.forEach(function (a) {
        list.appendChild(el('div', {class: 'mall-option'}, [
          el('div', {class: 'mall-option__main'}, [a.contact_name + ' ' + a.contact_phone,
            el('div', {class: 'mall-option__sub'}, [a.province, a.city, a.district, a.street, a.detail].join(' '))]),
          el('button', {type: 'button', class: 'mall-cart-line__remove', onclick: function () {
            SL.confirm('删除这个地址?', {ok: '删除'}).then(function (yes) {
              if (yes) api('DELETE', '/me/addresses/' + a.id).then(function () { render(); }, function () {});
            });
          }}, '删除')
        ]));
      });
    });
    view.appendChild(el('div', {class: 'mall-actions'}, [button('退出登录', {id: 'logout', class: 'weui-btn_warn'}, logout)]));
  }

  // ---- start ---------------------------------------------------------------------------------------------------------------
  updateBadges();
  SL.whoAmI().then(function (me) {
    if (me) {
      state.me = me;
      document.getElementById('mall-user').textContent = me.name || '';
      connectSocket();
      refreshUnread();
    }
    render();
  }, function () { render(); });
})();
