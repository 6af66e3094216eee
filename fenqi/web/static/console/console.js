// Live checks on console forms (IMEI Luhn digit, ID card check digit) and scanning an IMEI barcode with the
// camera where the browser has BarcodeDetector. The server validates everything again.
(function () {
  "use strict";
  function luhnOk(digits) {
    if (!/^\d{15}$/.test(digits)) return false;
    var sum = 0;
    for (var i = 0; i < 15; i++) {
      var d = +digits[14 - i];
      if (i % 2 === 1) { d *= 2; if (d > 9) d -= 9; }
      sum += d;
    }
    return sum % 10 === 0;
  }
  function ricOk(id) {
    id = id.toUpperCase();
    if (!/^\d{17}[\dX]$/.test(id)) return false;
    var w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], s = 0;
    for (var i = 0; i < 17; i++) s += (+id[i]) * w[i];
    return "10X98765432"[s % 11] === id[17];
  }
  var checks = { imei: luhnOk, ric: ricOk };
  document.querySelectorAll("input[data-check]").forEach(function (input) {
    var hint = document.getElementById(input.getAttribute("aria-describedby") || "");
    function run() {
      var value = input.value.trim();
      if (!value) { input.setCustomValidity(""); return; }
      var ok = checks[input.dataset.check](value);
      input.setCustomValidity(ok ? "" : (hint && hint.dataset.bad) || "invalid");
      if (hint) { hint.textContent = ok ? hint.dataset.ok : hint.dataset.bad; hint.className = ok ? "good" : "bad"; }
    }
    input.addEventListener("input", run);
    input.addEventListener("change", run);
  });
  // A page waiting for something (the down payment) asks its status every few seconds and reloads itself
  // when it has happened: the clerk never has to refresh.
  document.querySelectorAll("[data-poll]").forEach(function (marker) {
    var url = marker.dataset.poll, key = marker.dataset.pollKey;
    var timer = setInterval(function () {
      fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (state) {
          if (state && state[key]) { clearInterval(timer); window.location.reload(); }
        })
        .catch(function () {});
    }, 2000);
  });
  var print = document.getElementById("print-receipt");
  if (print) print.addEventListener("click", function () { window.print(); });
  var scan = document.getElementById("scan"), video = document.getElementById("scan-video");
  if (scan && video && "BarcodeDetector" in window && navigator.mediaDevices) {
    scan.hidden = false;
    scan.addEventListener("click", async function () {
      var detector = new window.BarcodeDetector({ formats: ["code_128", "ean_13", "qr_code"] });
      var stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
      video.srcObject = stream; video.hidden = false; await video.play();
      var input = document.getElementById("imei");
      (async function look() {
        var codes = await detector.detect(video);
        var hit = codes.map(function (c) { return c.rawValue.replace(/\D/g, ""); }).find(luhnOk);
        if (hit) {
          input.value = hit; input.dispatchEvent(new Event("input"));
          stream.getTracks().forEach(function (t) { t.stop(); }); video.hidden = true;
        } else { requestAnimationFrame(look); }
      })();
    });
  }
})();
