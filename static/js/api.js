/* StoreLink page foundation: the JSON API with a bearer token, polite errors, a login form and Socket.IO.
 *
 * Every page (mall, clerk, courier, hq) loads this first; it defines window.SL.
 * - The token from POST /api/v1/auth/login lives in localStorage under `storelink.token.<page>`
 *   (page = <body data-page>). It is sent as `Authorization: Bearer`; no cookie is involved, so a
 *   cross-site request cannot act as the user (no CSRF surface).
 * - Errors come back as SL.ApiError {status, code, message}; server and network failures get a polite
 *   Chinese message, never a stack trace. A 401 clears the token and shows the page's login form.
 */
(function () {
  'use strict';

  var page = document.body.getAttribute('data-page') || 'mall';
  var TOKEN_KEY = 'storelink.token.' + page;
  var API = '/api/v1';

  function ApiError(status, code, message, details) {
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.message = message;
    this.details = details || null;
  }
  ApiError.prototype = Object.create(Error.prototype);
  ApiError.prototype.constructor = ApiError;

  // ---- token -------------------------------------------------------------------------------
  function storage() {
    try { return window.localStorage; } catch (e) { return null; }  // private mode may refuse it
  }
  function token() {
    var s = storage();
    return s ? s.getItem(TOKEN_KEY) : null;
  }
  function setToken(value) {
    var s = storage();
    if (s) s.setItem(TOKEN_KEY, value);
  }
  function clearToken() {
    var s = storage();
    if (s) s.removeItem(TOKEN_KEY);
  }

  // ---- messages ----------------------------------------------------------------------------
  var POLITE = {
    network: '网络不太稳定,请检查网络后重试',
    server: '服务器开小差了,请稍后再试',
    timeout: '请求超时,请稍后再试',
    unauthorized: '登录已失效,请重新登录'
  };

  function politeMessage(err) {
    if (!err) return POLITE.server;
    if (err instanceof ApiError) {
      if (err.status === 0) return POLITE.network;
      if (err.status >= 500) return POLITE.server;
      return err.message || POLITE.server;
    }
    return POLITE.server;
  }

  var errorTimer = null;
  function showError(messageOrError) {
    var text = typeof messageOrError === 'string' ? messageOrError : politeMessage(messageOrError);
    var bar = document.getElementById('sl-error');
    if (!bar) { window.alert(text); return; }
    bar.textContent = text;
    bar.classList.add('is-shown');
    clearTimeout(errorTimer);
    errorTimer = setTimeout(function () { bar.classList.remove('is-shown'); }, 4000);
  }

  var toastTimer = null;
  function toast(text, ms) {
    var box = document.getElementById('sl-toast');
    if (!box) return;
    document.getElementById('sl-toast-text').textContent = text;
    box.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { box.hidden = true; }, ms || 1800);
  }

  // ---- fetch wrapper -----------------------------------------------------------------------
  var unauthorizedHandler = null;

  /** Call the API. `path` is relative to /api/v1 (or absolute when it starts with /api/).
   *  Resolves with the parsed JSON; rejects with ApiError. Options: headers, quiet (no error bar),
   *  auth (false: send no token). */
  function api(method, path, body, options) {
    options = options || {};
    var url = path.indexOf('/api/') === 0 ? path : API + path;
    var headers = {'Accept': 'application/json'};
    var init = {method: method, headers: headers, credentials: 'omit', cache: 'no-store'};
    if (body !== undefined && body !== null) {
      headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    var t = token();
    if (t && options.auth !== false) headers['Authorization'] = 'Bearer ' + t;
    Object.keys(options.headers || {}).forEach(function (k) { headers[k] = options.headers[k]; });

    return fetch(url, init).then(function (response) {
      return response.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
        if (response.ok) return data;
        var e = (data && data.error) || {};
        throw new ApiError(response.status, e.code || 'http_' + response.status,
                           response.status >= 500 ? POLITE.server : (e.message || POLITE.server), e.details);
      });
    }, function () {
      throw new ApiError(0, 'network_error', POLITE.network);
    }).catch(function (err) {
      if (err instanceof ApiError && err.status === 401 && options.auth !== false) {
        clearToken();
        err.message = err.code === 'invalid_credentials' ? err.message : POLITE.unauthorized;
        if (unauthorizedHandler) unauthorizedHandler(err);
      }
      if (!options.quiet) showError(err);
      throw err;
    });
  }

  function onUnauthorized(handler) { unauthorizedHandler = handler; }

  // ---- tiny DOM helpers --------------------------------------------------------------------
  /** el('div', {class: 'x', onclick: fn}, ['text', childNode]) */
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      var value = attrs[key];
      if (value === null || value === undefined || value === false) return;
      if (key.indexOf('on') === 0 && typeof value === 'function') node.addEventListener(key.slice(2), value);
      else if (key === 'class') node.className = value;
      else if (key === 'text') node.textContent = value;
      else if (key === 'dataset') Object.keys(value).forEach(function (d) { node.dataset[d] = value[d]; });
      else if (value === true) node.setAttribute(key, '');
      else node.setAttribute(key, String(value));
    });
    [].concat(children === undefined ? [] : children).forEach(function (child) {
      if (child === null || child === undefined || child === false) return;
      node.appendChild(typeof child === 'object' ? child : document.createTextNode(String(child)));
    });
    return node;
  }

  // ---- times -------------------------------------------------------------------------------
  // The chain trades in China: every time is shown in Beijing time (UTC+8, no daylight saving) whatever
  // zone the phone or store PC is set to, so the page agrees with order numbers and the server's messages.
  var CHINA_OFFSET_MS = 8 * 3600 * 1000;
  function pad2(n) { return (n < 10 ? '0' : '') + n; }
  function chinaDay(ms) {
    var d = new Date(ms + CHINA_OFFSET_MS);
    return d.getUTCFullYear() + '-' + pad2(d.getUTCMonth() + 1) + '-' + pad2(d.getUTCDate());
  }
  /** An ISO time as Beijing time: "YYYY-MM-DD HH:MM"; style 'short': "HH:MM" today, else "MM-DD HH:MM". */
  function when(iso, style) {
    var ms = iso ? Date.parse(iso) : NaN;
    if (isNaN(ms)) return '';
    var d = new Date(ms + CHINA_OFFSET_MS);
    var hm = pad2(d.getUTCHours()) + ':' + pad2(d.getUTCMinutes());
    var day = chinaDay(ms);
    if (style !== 'short') return day + ' ' + hm;
    return day === chinaDay(Date.now()) ? hm : day.slice(5) + ' ' + hm;
  }

  function yuan(cents) {
    return '¥' + (Number(cents || 0) / 100).toFixed(2);
  }

  /** A weui confirmation dialog (the browser's confirm() looks foreign in WeChat). Resolves true or false. */
  function confirmDialog(text, options) {
    options = options || {};
    return new Promise(function (resolve) {
      var box;
      function close(answer) { box.remove(); resolve(answer); }
      box = el('div', {class: 'sl-dialog', id: 'sl-dialog', role: 'dialog', 'aria-modal': 'true'}, [
        el('div', {class: 'weui-mask'}),
        el('div', {class: 'weui-dialog'}, [
          options.title ? el('div', {class: 'weui-dialog__hd'}, el('strong', {class: 'weui-dialog__title'}, options.title)) : null,
          el('div', {class: 'weui-dialog__bd'}, text),
          el('div', {class: 'weui-dialog__ft'}, [
            el('a', {href: 'javascript:', role: 'button', id: 'sl-dialog-cancel', class: 'weui-dialog__btn weui-dialog__btn_default',
                     onclick: function (e) { e.preventDefault(); close(false); }}, options.cancel || '取消'),
            el('a', {href: 'javascript:', role: 'button', id: 'sl-dialog-ok', class: 'weui-dialog__btn weui-dialog__btn_primary',
                     onclick: function (e) { e.preventDefault(); close(true); }}, options.ok || '确定')
          ])
        ])
      ]);
      document.body.appendChild(box);
    });
  }

  // ---- login form --------------------------------------------------------------------------
  /** Render a login form into `container` (default: #sl-login) and resolve with /auth/me's answer.
   *  options: {account: 'phone' | 'username', title, hint, extra: node appended under the button,
   *            onLogin(me)} */
  function loginForm(options) {
    options = options || {};
    var container = options.container || document.getElementById('sl-login');
    var byPhone = (options.account || 'phone') === 'phone';
    var account = el('input', {class: 'weui-input', id: 'login-account', name: byPhone ? 'phone' : 'username',
                               type: byPhone ? 'tel' : 'text', autocomplete: 'username', maxlength: byPhone ? 11 : 50,
                               placeholder: byPhone ? '请输入手机号' : '请输入账号'});
    var password = el('input', {class: 'weui-input', id: 'login-password', name: 'password', type: 'password',
                                autocomplete: 'current-password', maxlength: 128, placeholder: '请输入密码'});
    var error = el('div', {class: 'sl-field-error', id: 'login-error', role: 'alert'});
    var button = el('button', {class: 'weui-btn weui-btn_primary', id: 'login-submit', type: 'submit', text: '登录'});
    var form = el('form', {class: 'sl-login__form', novalidate: true}, [
      el('div', {class: 'sl-login__title', text: options.title || '登录'}),
      options.hint ? el('div', {class: 'sl-login__hint', text: options.hint}) : null,
      el('div', {class: 'weui-cells weui-cells_form'}, [
        el('label', {class: 'weui-cell weui-cell_active', for: 'login-account'}, [
          el('div', {class: 'weui-cell__hd'}, el('span', {class: 'weui-label', text: byPhone ? '手机号' : '账号'})),
          el('div', {class: 'weui-cell__bd'}, account)]),
        el('label', {class: 'weui-cell weui-cell_active', for: 'login-password'}, [
          el('div', {class: 'weui-cell__hd'}, el('span', {class: 'weui-label', text: '密码'})),
          el('div', {class: 'weui-cell__bd'}, password)])
      ]),
      error,
      el('div', {class: 'sl-login__actions'}, [button, options.extra || null])
    ]);

    return new Promise(function (resolve) {
      form.addEventListener('submit', function (event) {
        event.preventDefault();
        error.textContent = '';
        var id = account.value.trim();
        if (!id) { error.textContent = byPhone ? '请输入手机号' : '请输入账号'; account.focus(); return; }
        if (byPhone && !/^1\d{10}$/.test(id)) { error.textContent = '请输入 11 位手机号'; account.focus(); return; }
        if (!password.value) { error.textContent = '请输入密码'; password.focus(); return; }
        var body = {password: password.value};
        body[byPhone ? 'phone' : 'username'] = id;
        button.disabled = true;
        button.classList.add('weui-btn_loading');
        api('POST', '/auth/login', body, {auth: false, quiet: true}).then(function (data) {
          setToken(data.token);
          password.value = '';
          hideLogin(container);
          if (options.onLogin) options.onLogin(data);
          resolve(data);
        }, function (err) {
          error.textContent = politeMessage(err);
        }).then(function () {
          button.disabled = false;
          button.classList.remove('weui-btn_loading');
        });
      });
      container.innerHTML = '';
      container.appendChild(form);
      container.hidden = false;
      var main = document.getElementById('sl-main');
      if (main && container.id === 'sl-login') main.hidden = true;
    });
  }

  function hideLogin(container) {
    container = container || document.getElementById('sl-login');
    container.hidden = true;
    container.innerHTML = '';
    var main = document.getElementById('sl-main');
    if (main) main.hidden = false;
  }

  /** Who is logged in (GET /auth/me), or null when there is no valid token. */
  function whoAmI() {
    if (!token()) return Promise.resolve(null);
    return api('GET', '/auth/me', null, {quiet: true}).catch(function (err) {
      if (err.status === 401) return null;
      throw err;
    });
  }

  function logout() {
    clearToken();
  }

  // ---- Socket.IO ---------------------------------------------------------------------------
  /** Connect to namespace `ns` ('/member', '/clerk', ...) with the page's token. options.lastEventId():
   *  the event_id of the last event the page received (the last, not the largest: ids follow insertion,
   *  events arrive in commit order), sent on every (re)connect so the server replays what came after it. The auth callback is re-read on each reconnect, so a fresh token or event id is used. */
  function socket(ns, options) {
    options = options || {};
    if (typeof window.io !== 'function') throw new Error('socket.io client not loaded');
    var s = window.io(ns, {
      transports: ['polling', 'websocket'],
      auth: function (cb) {
        var auth = {token: token()};
        var last = options.lastEventId ? options.lastEventId() : null;
        if (last) auth.last_event_id = last;
        cb(auth);
      }
    });
    s.on('connect_error', function (err) {
      // The server refuses a connection whose token is missing or expired: same as a 401.
      if (err && err.message && /token|auth|unauthor|rejected/i.test(err.message)) {
        s.disconnect();
        clearToken();
        if (unauthorizedHandler) unauthorizedHandler(new ApiError(401, 'unauthorized', POLITE.unauthorized));
      }
    });
    return s;
  }

  window.SL = {
    page: page, ApiError: ApiError, api: api, token: token, setToken: setToken, clearToken: clearToken,
    logout: logout, whoAmI: whoAmI, onUnauthorized: onUnauthorized, loginForm: loginForm, hideLogin: hideLogin,
    showError: showError, politeMessage: politeMessage, toast: toast, confirm: confirmDialog, socket: socket, el: el, yuan: yuan,
    when: when
  };
})();
