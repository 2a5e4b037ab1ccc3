// Shows only the fields of the chosen escalation method; without JavaScript all are shown.
(function () {
  "use strict";
  var select = document.getElementById("escalation_method");
  if (!select) { return; }
  function update() {
    document.querySelectorAll(".method-fields").forEach(function (group) {
      group.hidden = group.getAttribute("data-method") !== select.value;
    });
  }
  select.addEventListener("change", update);
  update();
}());
