/* geo-justice map helpers: offline basemap and town labels, facility markers (one per place, listing all),
   a legend per visible layer, a short attribution with the full sources behind a toggle, phone layout. */
(function () {
  "use strict";
  var gj = window.geoJustice = {};
  var SMALL = 700;  // px: below this width controls start closed

  function esc(text) {
    var div = document.createElement("div");
    div.textContent = text;
    return div.innerHTML;
  }

  function pane(map, name, zIndex, interactive) {
    if (!map.getPane(name)) {
      var p = map.createPane(name);
      p.style.zIndex = zIndex;
      if (!interactive) { p.style.pointerEvents = "none"; }
    }
    return name;
  }

  /* Symbols: one SVG shape per kind, status by fill and outline as well as colour. */
  var SHAPES = {
    court: function (s, fill, status) {
      var c = s / 2, r = s / 2 - 2;
      if (status === "closed") {
        return '<circle cx="' + c + '" cy="' + c + '" r="' + r + '" fill="#fff" stroke="' + fill + '" stroke-width="3"/>' +
          '<path d="M' + (c - r / 1.6) + ' ' + (c - r / 1.6) + 'L' + (c + r / 1.6) + ' ' + (c + r / 1.6) + 'M' + (c + r / 1.6) +
          ' ' + (c - r / 1.6) + 'L' + (c - r / 1.6) + ' ' + (c + r / 1.6) + '" stroke="' + fill + '" stroke-width="2.5"/>';
      }
      if (status === "partial") {
        return '<circle cx="' + c + '" cy="' + c + '" r="' + r + '" fill="#fff" stroke="' + fill + '" stroke-width="2.5"/>' +
          '<path d="M' + c + ' ' + (c - r) + 'A' + r + ' ' + r + ' 0 0 0 ' + c + ' ' + (c + r) + 'Z" fill="' + fill + '"/>';
      }
      if (status === "unknown") {
        return '<circle cx="' + c + '" cy="' + c + '" r="' + r + '" fill="#fff" stroke="' + fill +
          '" stroke-width="2.5" stroke-dasharray="3 2"/>';
      }
      return '<circle cx="' + c + '" cy="' + c + '" r="' + r + '" fill="' + fill + '" stroke="#fff" stroke-width="2"/>';
    },
    prison: function (s, fill) {
      return '<rect x="2" y="2" width="' + (s - 4) + '" height="' + (s - 4) + '" fill="' + fill + '" stroke="#fff" stroke-width="2"/>';
    },
    mobile: function (s, fill) {
      var c = s / 2;
      return '<path d="M' + c + ' 1L' + (s - 1) + ' ' + c + 'L' + c + ' ' + (s - 1) + 'L1 ' + c + 'Z" fill="' + fill +
        '" stroke="#fff" stroke-width="2"/>';
    },
    added: function (s, fill) {
      var c = s / 2, pts = [];
      for (var i = 0; i < 10; i++) {
        var r = i % 2 ? s * 0.22 : s / 2 - 1, a = Math.PI / 5 * i - Math.PI / 2;
        pts.push((c + r * Math.cos(a)).toFixed(1) + "," + (c + r * Math.sin(a)).toFixed(1));
      }
      return '<polygon points="' + pts.join(" ") + '" fill="' + fill + '" stroke="#fff" stroke-width="1.5"/>';
    },
    incident: function (s, fill) {
      return '<path d="M' + s / 2 + ' 1L' + (s - 1) + ' ' + (s - 1) + 'L1 ' + (s - 1) + 'Z" fill="' + fill +
        '" stroke="#fff" stroke-width="1"/>';
    }
  };
  gj.symbol = function (shape, colour, status, size) {
    var s = size || 18;
    return '<svg xmlns="http://www.w3.org/2000/svg" width="' + s + '" height="' + s + '" viewBox="0 0 ' + s + ' ' + s +
      '" style="vertical-align:middle">' + SHAPES[shape](s, colour, status) + "</svg>";
  };

  /* The country, its regions, neighbours' borders, rivers, lakes, drawn under and over the rasters; town labels. */
  gj.basemap = function (map, data) {
    var under = pane(map, "gjLand", 150), lines = pane(map, "gjLines", 410), labels = pane(map, "gjLabels", 640);
    map.getContainer().style.background = "#dde3e6";
    if (data.country) {
      L.geoJSON(data.country, {pane: under, interactive: false,
        style: {stroke: false, fillColor: "#f7f4ee", fillOpacity: 1}}).addTo(map);
    }
    if (data.lakes) {
      L.geoJSON(data.lakes, {pane: lines, interactive: false,
        style: {color: "#5b9bd5", weight: 1, fillColor: "#a9cbe8", fillOpacity: 0.9}}).addTo(map);
    }
    if (data.rivers) {
      L.geoJSON(data.rivers, {pane: lines, interactive: false, style: {color: "#4a90c8", weight: 1.6, opacity: 0.9}}).addTo(map);
    }
    if (data.regions) {
      L.geoJSON(data.regions, {pane: lines, interactive: false,
        style: {color: "#6b6b6b", weight: 0.8, dashArray: "4 3", fill: false}}).addTo(map);
    }
    if (data.borders) {
      L.geoJSON(data.borders, {pane: lines, interactive: false, style: {color: "#8a8a8a", weight: 1.2}}).addTo(map);
    }
    if (data.country) {
      L.geoJSON(data.country, {pane: lines, interactive: false,
        style: {color: "#222", weight: 2.2, fill: false, className: "gj-border"}}).addTo(map);
    }
    var layer = L.layerGroup().addTo(map), places = (data.places || []).slice();
    places.sort(function (a, b) { return a[3] - b[3] || b[4] - a[4]; });  // rank, then population
    function draw() {
      layer.clearLayers();
      var zoom = map.getZoom(), taken = [], size = map.getSize();
      places.forEach(function (p) {
        if (p[3] > zoom + 2.5) { return; }
        var pt = map.latLngToContainerPoint([p[0], p[1]]), w = p[2].length * 6.5 + 16, box = [pt.x - 3, pt.y - 8, pt.x + w, pt.y + 8];
        if (pt.x < 0 || pt.y < 0 || pt.x > size.x || pt.y > size.y) { return; }
        for (var i = 0; i < taken.length; i++) {
          var t = taken[i];
          if (box[0] < t[2] && box[2] > t[0] && box[1] < t[3] && box[3] > t[1]) { return; }
        }
        taken.push(box);
        L.marker([p[0], p[1]], {pane: labels, interactive: false, keyboard: false, icon: L.divIcon({
          className: "gj-place" + (p[3] <= 4 ? " gj-place-major" : ""), iconSize: null, iconAnchor: [3, 6],
          html: '<span class="gj-dot"></span>' + esc(p[2])})}).addTo(layer);
      });
    }
    map.on("zoomend moveend", draw);
    map.whenReady(draw);
  };

  /* Facilities: every visible facility within a few pixels of another shares one marker; a click on the map
     lists every facility under it (each with its own popup text). */
  gj.facilities = function (map, layers, text) {
    var fpane = pane(map, "gjFacilities", 650, true), GROUP = 6, PICK = 10;
    function visible() {
      var out = [];
      layers.forEach(function (l) {
        if (map.hasLayer(l.group)) { l.items.forEach(function (it) { out.push({item: it, layer: l}); }); }
      });
      return out;
    }
    function icon(members) {
      var first = members[0].item, s = first.shape === "prison" ? 16 : 18;
      var html = gj.symbol(first.shape, first.colour, first.status, s);
      if (members.length > 1) {
        html += '<span class="gj-count">' + members.length + "</span>";
      }
      return L.divIcon({className: "gj-facility", html: html, iconSize: [s, s], iconAnchor: [s / 2, s / 2]});
    }
    function near(latlng) {
      var at = map.latLngToContainerPoint(latlng), found = [];
      visible().forEach(function (v) {
        var d = map.latLngToContainerPoint([v.item.lat, v.item.lon]).distanceTo(at);
        if (d <= PICK) { found.push([d, v.item]); }
      });
      found.sort(function (a, b) { return a[0] - b[0] || a[1].order - b[1].order; });
      return found.map(function (f) { return f[1]; });
    }
    function show(latlng) {
      var items = near(latlng);
      if (!items.length) { return false; }
      var html;
      if (items.length === 1) {
        html = items[0].html;
      } else {
        html = '<div class="gj-list"><b>' + esc(text.here.replace("{n}", items.length)) + "</b>" + items.map(function (it) {
          return "<details><summary>" + gj.symbol(it.shape, it.colour, it.status, 12) + " " + esc(it.name) +
            "</summary>" + it.html + "</details>";
        }).join("") + "</div>";
      }
      L.popup({maxWidth: Math.min(320, map.getSize().x - 70), maxHeight: Math.max(160, map.getSize().y - 140),
               autoPanPaddingTopLeft: [50, 60], autoPanPaddingBottomRight: [20, 40]})
        .setLatLng([items[0].lat, items[0].lon]).setContent(html).openOn(map);
      return true;
    }
    function draw() {
      layers.forEach(function (l) { l.group.clearLayers(); });
      var anchors = [];
      visible().forEach(function (v) {
        var pt = map.latLngToContainerPoint([v.item.lat, v.item.lon]);
        for (var i = 0; i < anchors.length; i++) {
          if (anchors[i].pt.distanceTo(pt) <= GROUP) { anchors[i].members.push(v); return; }
        }
        anchors.push({pt: pt, members: [v]});
      });
      anchors.forEach(function (a) {
        a.members.sort(function (x, y) { return x.item.order - y.item.order; });
        var first = a.members[0];
        var marker = L.marker([first.item.lat, first.item.lon], {pane: fpane, icon: icon(a.members), keyboard: true,
          title: a.members.map(function (m) { return m.item.name; }).join(" · "), riseOnHover: true});
        marker.on("click", function (e) { show(map.mouseEventToLatLng(e.originalEvent)); });  // not the marker's place
        marker.addTo(first.layer.group);
      });
    }
    map.on("click", function (e) { show(e.latlng); });
    map.on("zoomend overlayadd overlayremove", draw);
    map.whenReady(draw);
  };

  /* A legend row: [kind, ...args, text]. */
  function row(r) {
    var text = esc(r[r.length - 1]), sym;
    if (r[0] === "swatch") {
      sym = '<span class="gj-swatch" style="background:' + r[1] + '"></span>';
    } else if (r[0] === "symbol") {
      sym = gj.symbol(r[1], r[2], r[3], 14);
    } else if (r[0] === "line") {
      sym = '<svg width="20" height="10" style="vertical-align:middle"><line x1="0" y1="5" x2="20" y2="5" stroke="' + r[1] +
        '" stroke-width="2" stroke-dasharray="' + r[2] + '"/></svg>';
    } else if (r[0] === "area") {
      sym = '<span class="gj-swatch" style="background:' + r[2] + ';opacity:.7;outline:2px solid ' + r[1] + '"></span>';
    } else if (r[0] === "count") {
      sym = '<span class="gj-count gj-count-inline">3</span>';
    } else {
      sym = '<span class="gj-cluster gj-cluster-inline">12</span>';
    }
    return '<div class="gj-row">' + sym + " " + text + "</div>";
  }

  /* One legend section per layer, shown while its layer is on the map; closed at first on a phone. */
  gj.legend = function (map, sections, title) {
    var box = L.control({position: "bottomright"});
    box.onAdd = function () {
      var div = L.DomUtil.create("div", "gj-box gj-legend");
      div.innerHTML = '<details' + (window.innerWidth < SMALL ? "" : " open") + "><summary>" + esc(title) +
        '</summary><div class="gj-sections"></div></details>';
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      return div;
    };
    box.addTo(map);
    var holder = box.getContainer().querySelector(".gj-sections");
    function update() {
      holder.innerHTML = sections.filter(function (s) { return !s.layer || map.hasLayer(s.layer); })
        .map(function (s) {
          return '<div class="gj-section"><b>' + esc(s.title) + "</b>" + s.rows.map(row).join("") + "</div>";
        }).join("");
    }
    map.on("overlayadd overlayremove baselayerchange layeradd layerremove", function (e) {
      if (!e.layer || sections.some(function (s) { return s.layer === e.layer; }) || e.type.indexOf("overlay") === 0) { update(); }
    });
    update();
  };

  /* A short attribution line; "Sources" opens the full list. */
  gj.sources = function (map, short, button, title, full) {
    map.attributionControl.setPrefix('<a href="https://leafletjs.com" title="Leaflet">Leaflet</a>');
    map.attributionControl.addAttribution(short + ' · <a href="#" class="gj-sources-link">' + esc(button) + "</a>");
    var box = L.control({position: "bottomleft"});
    box.onAdd = function () {
      var div = L.DomUtil.create("div", "gj-box gj-sources");
      div.style.display = "none";
      div.innerHTML = '<button type="button" class="gj-close" aria-label="×">×</button><b>' + esc(title) + "</b><ul>" +
        full.map(function (s) { return "<li>" + esc(s) + "</li>"; }).join("") + "</ul>";
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      div.querySelector(".gj-close").onclick = function () { div.style.display = "none"; };
      return div;
    };
    box.addTo(map);
    map.getContainer().addEventListener("click", function (e) {
      if (e.target.classList && e.target.classList.contains("gj-sources-link")) {
        e.preventDefault();
        e.stopPropagation();
        var div = box.getContainer();
        div.style.display = div.style.display === "none" ? "block" : "none";
      }
    }, true);
  };

  /* A fixed box of HTML (title, summary). */
  gj.box = function (map, html, position, cls) {
    var box = L.control({position: position});
    box.onAdd = function () {
      var div = L.DomUtil.create("div", "gj-box " + (cls || ""));
      div.innerHTML = html;
      L.DomEvent.disableClickPropagation(div);
      return div;
    };
    box.addTo(map);
  };

  /* The layer control open on a wide screen, closed (an icon) on a laptop or a phone. */
  gj.responsive = function (map) {
    var control = map.getContainer().querySelector(".leaflet-control-layers");
    if (control && window.innerWidth >= 1300) {  // open only where it leaves the country in view
      control.classList.add("leaflet-control-layers-expanded");
    }
  };

  /* Polylines drawn `offset` px to the right of their direction, recomputed on zoom: overlapping legs stay apart. */
  gj.offsetLines = function (map, lines) {
    function place() {
      lines.forEach(function (l) {
        var pts = l.latlngs.map(function (p) { return map.project(p, map.getZoom()); }), out = [];
        for (var i = 0; i < pts.length; i++) {
          var a = pts[Math.max(0, i - 1)], b = pts[Math.min(pts.length - 1, i + 1)];
          var dx = b.x - a.x, dy = b.y - a.y, n = Math.sqrt(dx * dx + dy * dy) || 1;
          out.push(map.unproject(L.point(pts[i].x - dy / n * l.offset, pts[i].y + dx / n * l.offset), map.getZoom()));
        }
        l.line.setLatLngs(out);
      });
    }
    map.on("zoomend", place);
    map.whenReady(place);
  };
})();
