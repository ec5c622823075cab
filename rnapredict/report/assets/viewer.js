/* rnapredict report: 3D viewer (3Dmol.js). Reads the models packed by rnapredict/report/viewer.py
   from <script id="rp-models" type="application/json">, rebuilds PDB text, draws cartoon +
   sticks coloured by the confidence bands, and offers a model switcher. For headless checks
   it sets <html data-viewer="ready N"> (N atoms loaded) or "error: ...", and
   data-images="shown/total" once the page has loaded. */
(function () {
  "use strict";
  var BANDS = [[90, "#0053D6"], [70, "#65CBF3"], [50, "#FFDB13"]];
  var LOW = "#FF7D45";
  var REFERENCE = "#8c8c8c";
  function band(b) {
    for (var i = 0; i < BANDS.length; i++) if (b >= BANDS[i][0]) return BANDS[i][1];
    return LOW;
  }
  function fixed(v, width, digits) { return v.toFixed(digits).padStart(width); }
  function decode(b64) {
    var bin = atob(b64), bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    var view = new DataView(bytes.buffer), out = new Float64Array(bytes.length / 4);
    for (var k = 0; k < out.length; k++) out[k] = view.getInt32(4 * k, true);
    return out;
  }
  function pdbText(model, topo, unit) {
    var xyz = decode(model.xyz), lines = [], serial = 0, k = 0;
    for (var r = 0; r < topo.tmpl.length; r++) {
      var t = topo.templates[topo.tmpl[r]];
      var b = model.b && model.b[r] != null ? model.b[r] : -1;  // -1: no value (grey)
      var head = " " + topo.resn[r].padStart(3) + " " + topo.chain[r] +
        String(topo.resi[r]).padStart(4) + topo.icode[r] + "   ";
      for (var a = 0; a < t.names.length; a++, k++) {
        var name = t.names[a];
        serial++;
        lines.push("ATOM  " + String(serial % 100000).padStart(5) + " " +
          (name.length < 4 ? " " + name.padEnd(3) : name.slice(0, 4)) + head +
          fixed(xyz[3 * k] * unit, 8, 3) + fixed(xyz[3 * k + 1] * unit, 8, 3) +
          fixed(xyz[3 * k + 2] * unit, 8, 3) + "  1.00" + fixed(b, 6, 2) +
          "          " + t.elements[a].padStart(2));
      }
    }
    return lines.join("\n") + "\nEND\n";
  }
  function colour(atom) { return atom.b < 0 ? REFERENCE : band(atom.b); }
  function start() {
    var root = document.documentElement;
    var el = document.getElementById("rp-viewer");
    try {
      var data = JSON.parse(document.getElementById("rp-models").textContent);
      var viewer = window.$3Dmol && $3Dmol.createViewer(el, {backgroundColor: "white"});
      if (!viewer) throw new Error("this browser has no WebGL; the 3D view needs it");
      var handles = data.models.map(function (m) {
        return viewer.addModel(pdbText(m, data.topologies[m.topology], data.unit), "pdb");
      });
      var confident = [];
      data.models.forEach(function (m, i) { if (m.style !== "reference") confident.push(i); });
      var show = function (sel) {
        handles.forEach(function (h, i) {
          var m = data.models[i];
          if (m.style === "reference") {
            h.setStyle({}, {cartoon: {color: REFERENCE, opacity: 0.75},
                            stick: {color: REFERENCE, radius: 0.12}});
          } else if (sel === -1) {
            h.setStyle({}, {cartoon: {colorfunc: colour}});
          } else if (i === sel) {
            h.setStyle({}, {cartoon: {colorfunc: colour}, stick: {colorfunc: colour, radius: 0.18}});
          } else {
            h.setStyle({}, {});
          }
        });
        var buttons = document.querySelectorAll("#rp-switch button");
        buttons.forEach(function (btn) {
          btn.classList.toggle("on", Number(btn.dataset.model) === sel);
        });
        viewer.render();
      };
      var bar = document.getElementById("rp-switch");
      var add = function (label, sel) {
        var btn = document.createElement("button");
        btn.type = "button";
        btn.textContent = label;
        btn.dataset.model = String(sel);
        btn.addEventListener("click", function () { show(sel); });
        bar.appendChild(btn);
      };
      confident.forEach(function (i) { add(data.models[i].label, i); });
      if (confident.length > 1) add("all superposed", -1);
      show(confident.length ? confident[0] : -1);
      viewer.zoomTo();
      viewer.render(function () {
        var n = handles.reduce(function (s, h) { return s + h.selectedAtoms({}).length; }, 0);
        root.setAttribute("data-viewer", "ready " + n);
      });
    } catch (err) {
      var why = (err && err.message) || String(err) || "unknown error";
      el.textContent = "3D view unavailable (it needs WebGL, which this browser did not " +
        "provide; try another browser or enable hardware acceleration): " + why;
      root.setAttribute("data-viewer", "error: " + why);
    }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
  window.addEventListener("load", function () {
    var shown = Array.prototype.filter.call(document.images, function (img) {
      return img.complete && img.naturalWidth > 0;
    });
    document.documentElement.setAttribute("data-images", shown.length + "/" + document.images.length);
  });
})();
