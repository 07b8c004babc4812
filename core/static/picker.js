/* The picker (core/pickers.py, the `picker` macro of templates/_macros.html): the list under a
   search box narrows as one types. Without this script the box sends its own GET form and the
   server narrows the list by the same rule: every word typed must appear in an entry, case and
   full-width characters ignored. Options are taken out of the list rather than hidden, since
   phones' own list pickers show hidden options. */
(function () {
  "use strict";

  function folded(text) {
    return (text.normalize ? text.normalize("NFKC") : text).toLowerCase();
  }

  function blank(option) {
    return option.value === "" || option.value === "0";
  }

  function setUp(box) {
    var input = box.querySelector("[data-picker-input]");
    var select = box.querySelector("select[data-picker-select]");
    var count = box.querySelector("[data-picker-count]");
    if (!input || !select) {
      return;
    }
    var button = box.querySelector("[data-picker-button]");
    if (button) {
      button.hidden = true; // the list narrows by itself now
    }
    var all = Array.prototype.slice.call(select.options).map(function (option) {
      return { option: option, text: folded(option.text), blank: blank(option) };
    });
    var entries = all.filter(function (e) { return !e.blank; }).length;

    function apply() {
      var terms = folded(input.value).split(/\s+/).filter(Boolean);
      var chosen = select.value;
      var found = [];
      while (select.options.length) {
        select.remove(0);
      }
      all.forEach(function (e) {
        var match = e.blank || terms.every(function (t) { return e.text.indexOf(t) !== -1; });
        if (match) {
          select.add(e.option);
          if (!e.blank) {
            found.push(e.option);
          }
        }
      });
      if (terms.length && found.length === 1) {
        select.value = found[0].value;
      } else if (found.some(function (o) { return o.value === chosen; })) {
        select.value = chosen;
      } else if (select.options.length) {
        select.selectedIndex = 0;
      }
      var line = count && count.querySelector("[data-picker-line]");
      if (line) {
        line.textContent = !terms.length ? "" : found.length
          ? count.getAttribute("data-found").replace("{found}", found.length).replace("{total}", entries)
          : count.getAttribute("data-none");
      }
      select.dispatchEvent(new Event("change", { bubbles: true }));
    }

    input.addEventListener("input", apply);
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { // the list is narrowed already: go on to it, do not reload
        event.preventDefault();
        apply();
        select.focus();
      }
    });
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-picker]"), setUp);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
