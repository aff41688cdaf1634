/* Shared by the clerk centre and the courier page: the bottom sheet, the alert sound, order text. */
(function () {
  'use strict';
  var el = window.SL.el;

  var FULFILMENT = {pickup: '门店自提', store_delivery: '门店配送', express: '快递'};
  var STATUS = {
    awaiting_acceptance: '待接单', accepted: '待备货', ready_for_pickup: '待提货', ready_to_ship: '待发货',
    shipped: '配送中', completed: '已完成', rejected: '已拒签', cancelled: '已取消', expired: '已关闭'
  };

  /** A bottom sheet bound to #<prefix>-sheet: open(title, nodes) / close(); onClose(fn) runs on close. */
  function Sheet(prefix) {
    var root = document.getElementById(prefix + '-sheet');
    var title = document.getElementById(prefix + '-sheet-title');
    var body = document.getElementById(prefix + '-sheet-body');
    var closers = [];
    var self = this;
    root.addEventListener('click', function (event) {
      if (event.target.hasAttribute('data-close')) self.close();
    });
    this.open = function (text, nodes) {
      title.textContent = text;
      body.innerHTML = '';
      [].concat(nodes).forEach(function (n) { if (n) body.appendChild(n); });
      root.hidden = false;
      return body;
    };
    this.close = function () {
      root.hidden = true;
      body.innerHTML = '';
      var fns = closers; closers = [];
      fns.forEach(function (fn) { try { fn(); } catch (e) { /* nothing to do */ } });
    };
    this.onClose = function (fn) { closers.push(fn); };
    this.isOpen = function () { return !root.hidden; };
  }

  // Browsers start audio only after a user gesture: the context is made on the first tap or key.
  var audio = null;
  function unlockAudio() {
    if (audio || !(window.AudioContext || window.webkitAudioContext)) return;
    try { audio = new (window.AudioContext || window.webkitAudioContext)(); } catch (e) { audio = null; }
  }
  document.addEventListener('click', unlockAudio, true);
  document.addEventListener('keydown', unlockAudio, true);

  /** A short two-tone chime; `loud`: three longer, louder ones (escalation). Also vibrates a phone. */
  function chime(loud) {
    if (navigator.vibrate) navigator.vibrate(loud ? [300, 100, 300, 100, 300] : 200);
    if (!audio) return;
    if (audio.state === 'suspended') audio.resume();
    var start = audio.currentTime;
    var notes = loud ? [988, 740, 988, 740, 988, 740] : [880, 1318];
    notes.forEach(function (freq, i) {
      var osc = audio.createOscillator(), gain = audio.createGain();
      var at = start + i * (loud ? 0.25 : 0.18), len = loud ? 0.22 : 0.15;
      osc.type = loud ? 'square' : 'sine';
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(loud ? 0.6 : 0.3, at);
      gain.gain.exponentialRampToValueAtTime(0.001, at + len);
      osc.connect(gain); gain.connect(audio.destination);
      osc.start(at); osc.stop(at + len);
    });
  }

  /** "HH:MM" today, "MM-DD HH:MM" otherwise, in Beijing time (SL.when). */
  function when(iso) { return window.SL.when(iso, 'short'); }

  function linesText(lines) {
    return (lines || []).map(function (l) { return l.name + ' ×' + l.qty; }).join(',');
  }

  function addressText(a) {
    if (!a) return '';
    return [a.province, a.city === a.province ? '' : a.city, a.district, a.street, a.detail].filter(Boolean).join('');
  }

  function shortNo(number) { return '#' + String(number || '').slice(-6); }

  function kv(label, value, attrs) {
    return el('div', Object.assign({class: 'staff-kv'}, attrs || {}), [el('span', {text: label}), el('span', {text: value})]);
  }

  /** Yuan typed by a person (e.g. "12.5") as integer cents, or null. */
  function cents(text) {
    var t = String(text || '').trim();
    if (!/^\d{1,7}(\.\d{1,2})?$/.test(t)) return null;
    return Math.round(parseFloat(t) * 100);
  }

  window.Staff = {FULFILMENT: FULFILMENT, STATUS: STATUS, Sheet: Sheet, chime: chime, when: when, linesText: linesText,
                  addressText: addressText, shortNo: shortNo, kv: kv, cents: cents};
})();
