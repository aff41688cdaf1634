/* The address region picker (省 / 市 / 区县 / 乡镇街道), one level at a time from GET /api/v1/regions:
 * the mall's checkout and HQ's phone orders. SL.regionPicker(onChange) -> {node, value()}, value() being
 * {province, city, district, street} (names) once all four are chosen, else null. Built on SL (api.js). */
(function () {
  'use strict';
  var el = SL.el;
  var regionCache = {};
  function regionLevel(parent) {
    var key = parent || '';
    if (regionCache[key]) return Promise.resolve(regionCache[key]);
    return SL.api('GET', '/regions' + (parent ? '?parent=' + parent : '')).then(function (data) {
      regionCache[key] = data.regions;
      return data.regions;
    });
  }

  SL.regionPicker = function (onChange) {
    var levels = ['province', 'city', 'district', 'street'];
    var labels = ['省份', '城市', '区县', '乡镇/街道'];
    var selects = levels.map(function (level, i) {
      return el('select', {id: 'region-' + level, name: level, 'aria-label': labels[i], disabled: i > 0},
        el('option', {value: ''}, labels[i]));
    });
    function reset(from) {
      for (var i = from; i < selects.length; i++) {
        selects[i].innerHTML = '';
        selects[i].appendChild(el('option', {value: ''}, labels[i]));
        selects[i].disabled = true;
      }
    }
    function fill(i, parent) {
      return regionLevel(parent).then(function (regions) {
        regions.forEach(function (r) { selects[i].appendChild(el('option', {value: r.code}, r.name)); });
        selects[i].disabled = false;
        if (regions.length === 1 && i < selects.length - 1) {  // 上海市 / 上海市: nothing to choose
          selects[i].value = regions[0].code;
          return fill(i + 1, regions[0].code);
        }
      });
    }
    selects.forEach(function (select, i) {
      select.addEventListener('change', function () {
        reset(i + 1);
        var next = select.value && i < selects.length - 1 ? fill(i + 1, select.value) : Promise.resolve();
        next.then(onChange);
      });
    });
    fill(0, null);
    return {
      node: el('div', {class: 'sl-regions', id: 'region-picker'}, selects),
      value: function () {
        if (selects.some(function (s) { return !s.value; })) return null;
        var names = {};
        selects.forEach(function (s, i) { names[levels[i]] = s.options[s.selectedIndex].text; });
        return names;
      }
    };
  };
})();
