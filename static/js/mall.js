/* The member mall (/): browse, cart, checkout, orders, pickup code, messages. Built on SL (api.js). */
(function () {
  'use strict';
  var el = SL.el;
  var view = document.getElementById('mall-view');
  var state = {me: null};

  function showLogin() {
    document.getElementById('mall-logout').hidden = true;
    document.getElementById('mall-user').textContent = '';
    SL.loginForm({title: '会员登录', hint: '演示账号 13800000001 / demo1234'}).then(start);
  }

  function start(me) {
    state.me = me;
    document.getElementById('mall-user').textContent = me.name || '';
    document.getElementById('mall-logout').hidden = false;
    renderHome();
  }

  function renderHome() {
    view.innerHTML = '';
    SL.api('GET', '/products').then(function (data) {
      var list = el('div', {class: 'weui-cells', id: 'product-list'});
      data.products.forEach(function (p) {
        list.appendChild(el('div', {class: 'weui-cell product', dataset: {sku: p.sku}}, [
          el('div', {class: 'weui-cell__bd'}, p.name),
          el('div', {class: 'weui-cell__ft'}, SL.yuan(p.price))
        ]));
      });
      view.appendChild(list);
    });
  }

  document.getElementById('mall-logout').addEventListener('click', function () {
    SL.logout();
    showLogin();
  });
  SL.onUnauthorized(showLogin);
  SL.whoAmI().then(function (me) { if (me) start(me); else showLogin(); }, function () { showLogin(); });
})();
