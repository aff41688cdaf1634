/* 总部后台: a store's sales daily report (日结) of a business date, closing it, and its ERP export (CSV for
 * Excel, JSON) downloaded with the bearer token. SL.hqDayEnd.start(stores) once the stores are read. */
(function () {
  'use strict';
  var SL = window.SL, el = SL.el, Report = SL.dayEndReport;
  function $(id) { return document.getElementById(id); }

  function start(stores) {
    var select = $('de-store');
    select.innerHTML = '';
    stores.forEach(function (s) { select.appendChild(el('option', {value: s.id, text: s.name})); });
    var date = $('de-date');
    date.max = Report.chinaToday();
    if (!date.value) date.value = Report.chinaToday(1);  // yesterday: the day to close this morning
    $('de-load').onclick = load;
  }

  function load() {
    var storeId = $('de-store').value, date = $('de-date').value, box = $('de-report');
    if (!storeId || !date) return SL.showError('请选择门店和营业日');
    SL.api('GET', '/hq/day-ends?store_id=' + encodeURIComponent(storeId) + '&date=' + encodeURIComponent(date)).then(function (r) {
      box.innerHTML = '';
      Report.nodes(r, 'de').concat(actions(r)).forEach(function (n) { box.appendChild(n); });
      box.hidden = false;
    });
  }

  function actions(r) {
    var button = function (text, cls, id, fn) {
      return el('button', {type: 'button', class: 'weui-btn weui-btn_mini ' + cls, id: id, text: text, onclick: fn});
    };
    if (r.status === 'closed') {
      return [el('div', {class: 'hq-dayend__actions'}, [
        button('导出 CSV(Excel)', 'weui-btn_primary', 'de-csv', function () { download(r, 'csv'); }),
        button('导出 JSON', 'weui-btn_default', 'de-json', function () { download(r, 'json'); })])];
    }
    if (!r.ended) return [];
    return [el('div', {class: 'hq-dayend__actions'}, [button('日结 ' + r.business_date, 'weui-btn_primary', 'de-close', function (e) {
      SL.confirm(r.store.name + ' ' + r.business_date + ' ' + Report.CLOSE_WARNING, {ok: '确认日结'}).then(function (yes) {
        if (!yes) return;
        e.target.disabled = true;
        SL.api('POST', '/hq/day-ends/close', {store_id: r.store.id, date: r.business_date}).then(function () {
          SL.toast('已日结');
        }).then(load, load);
      });
    })])];
  }

  /** The export is behind the bearer token, so it is fetched and handed to the browser as a file. */
  function download(r, format) {
    var name = 'day-end-' + r.store.code + '-' + r.business_date + '.' + format;
    fetch('/api/v1/hq/day-ends/' + r.store.id + '/' + r.business_date + '.' + format,
          {headers: {Authorization: 'Bearer ' + SL.token()}}).then(function (response) {
      if (!response.ok) throw new Error(String(response.status));
      return response.blob();
    }).then(function (blob) {
      var link = el('a', {href: URL.createObjectURL(blob), download: name});
      document.body.appendChild(link);
      link.click();
      setTimeout(function () { URL.revokeObjectURL(link.href); link.remove(); }, 1000);
    }, function () { SL.showError('导出失败,请稍后重试'); });
  }

  SL.hqDayEnd = {start: start};
})();
