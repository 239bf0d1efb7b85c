// The visit's map: the customer's registered place and geofence, each photo's position (with
// its GPS accuracy), on a Natural Earth basemap drawn from the embedded world-atlas TopoJSON —
// no tile server, nothing fetched from another origin. A metric scale bar says how far is far.
(function () {
  "use strict";
  var node = document.getElementById("map-data");
  var el = document.getElementById("map");
  if (!node || !el || !window.L) return;
  var data = JSON.parse(node.textContent);
  var map = L.map(el, { zoomSnap: 0.25, attributionControl: true });
  map.attributionControl.setPrefix(false);
  map.attributionControl.addAttribution("Natural Earth");
  L.control.scale({ metric: true, imperial: false }).addTo(map);
  fetch("/hq/assets/vendor/world-atlas@2.0.2/countries-10m.json")
    .then(function (r) { return r.json(); })
    .then(function (topo) {
      var land = topojson.feature(topo, topo.objects.countries);
      L.geoJSON(land, { style: { color: "#9aa6b2", weight: 1, fillColor: "#eef0e6", fillOpacity: 1 }, interactive: false })
        .addTo(map).bringToBack();
      el.dataset.basemap = "loaded";
    })
    .catch(function () { el.dataset.basemap = "failed"; });
  var bounds = [];
  if (data.customer) {
    var c = [data.customer.lat, data.customer.lon];
    L.circle(c, { radius: data.radius_m, color: "#0b5cad", weight: 2, dashArray: "6 4", fillOpacity: 0.06 })
      .addTo(map).bindTooltip(data.labels.geofence + ": " + Math.round(data.radius_m) + " m");
    L.circleMarker(c, { radius: 8, color: "#fff", weight: 2, fillColor: "#0b5cad", fillOpacity: 1, className: "customer-marker" })
      .addTo(map).bindTooltip(data.labels.customer + ": " + data.customer.label);
    bounds.push(c);
  }
  var colours = { compliant: "#177245", flagged: "#a15c07", non_compliant: "#b42318", draft: "#5b6577" };
  (data.places || []).forEach(function (c) {
    var at = [c.lat, c.lon];
    L.circleMarker(at, { radius: 5, color: "#0b5cad", weight: 2, fillColor: "#fff", fillOpacity: 1, className: "place-marker" })
      .addTo(map).bindTooltip(data.labels.customer + ": " + c.label);
    bounds.push(at);
  });
  (data.visits || []).forEach(function (v) {
    var at = [v.lat, v.lon];
    var m = L.circleMarker(at, { radius: 7, color: "#fff", weight: 2, fillColor: colours[v.status] || "#5b6577", fillOpacity: 1,
                                 className: "visit-marker status-" + v.status });
    m.addTo(map).bindTooltip(v.label);
    m.on("click", function () { window.location = v.url; });
    bounds.push(at);
  });
  (data.photos || []).forEach(function (p) {
    var at = [p.lat, p.lon];
    if (p.accuracy_m) {
      L.circle(at, { radius: p.accuracy_m, color: "#b42318", weight: 1, fillOpacity: 0.08, interactive: false }).addTo(map);
    }
    L.circleMarker(at, { radius: 6, color: "#fff", weight: 2, fillColor: "#b42318", fillOpacity: 1, className: "photo-marker" })
      .addTo(map).bindTooltip(data.labels.photo + ": " + p.label);
    bounds.push(at);
  });
  if (bounds.length === 0) {
    map.setView([-2.5, 118], 5); // Indonesia
  } else if (bounds.length === 1) {
    map.setView(bounds[0], 17);
  } else {
    map.fitBounds(L.latLngBounds(bounds).pad(0.3), { maxZoom: 18 });
  }
  el.dataset.ready = "true";
})();
