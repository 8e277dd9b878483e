// chitra: the payment form shows the proxy's fields only when a proxy receives the money.
(function () {
  function sync() {
    var m = document.getElementById("f-method");
    var p = document.getElementById("proxy-fields");
    if (m && p) { p.hidden = m.value !== "proxy"; }
  }
  document.addEventListener("change", function (e) {
    if (e.target && e.target.id === "f-method") { sync(); }
  });
  document.addEventListener("DOMContentLoaded", sync);
})();
