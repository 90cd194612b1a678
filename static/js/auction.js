/* Live auction page: polls the JSON state every 2 s and ticks the countdown every second.
 *
 * The state carries paddles, prices and times only (never organizations or maximums). The countdown runs on the
 * server's clock (the offset is measured at every poll), and follows ends_at, which a late bid moves (soft close).
 * No framework, no CDN: served by the application like every other static file.
 */
(function () {
  "use strict";

  var root = document.getElementById("auction-live");
  if (!root || !window.fetch) {
    return;
  }
  var POLL_MS = 2000;
  var url = root.dataset.stateUrl;
  var endsAt = Date.parse(root.dataset.endsAt);
  var status = root.dataset.status;
  var offset = 0; // server time minus local time, in ms
  var own = (root.dataset.ownPaddles || "").split(",").filter(Boolean).map(Number);
  var fmt = new Intl.NumberFormat("zh-CN", { maximumFractionDigits: 2 });

  function field(name) {
    return root.querySelector('[data-field="' + name + '"]');
  }

  function yuan(value) {
    return value === null || value === undefined || value === "" ? "—" : "¥" + fmt.format(Number(value));
  }

  function pad(n) {
    return (n < 10 ? "0" : "") + n;
  }

  function localTime(iso) {
    var d = new Date(iso);
    return pad(d.getHours()) + ":" + pad(d.getMinutes()) + ":" + pad(d.getSeconds());
  }

  function localDateTime(iso) {
    var d = new Date(iso);
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " + localTime(iso);
  }

  function isOpen() {
    return status === "scheduled" || status === "running";
  }

  function tick() {
    var el = field("countdown");
    if (!el) {
      return;
    }
    var left = Math.max(0, endsAt - (Date.now() + offset));
    if (!isOpen() || left === 0) {
      el.textContent = "00:00:00";
      if (isOpen()) {
        field("you").textContent = root.dataset.labelEnded;
      }
      return;
    }
    var s = Math.floor(left / 1000);
    var days = Math.floor(s / 86400);
    s -= days * 86400;
    var text = pad(Math.floor(s / 3600)) + ":" + pad(Math.floor((s % 3600) / 60)) + ":" + pad(s % 60);
    el.textContent = (days ? days + root.dataset.labelDays + " " : "") + text;
  }

  function renderBids(bids) {
    var body = field("bids");
    body.textContent = "";
    if (!bids.length) {
      var empty = document.createElement("tr");
      var cell = document.createElement("td");
      cell.colSpan = 4;
      cell.className = "muted";
      cell.textContent = root.dataset.labelNone;
      empty.appendChild(cell);
      body.appendChild(empty);
      return;
    }
    bids.forEach(function (bid) {
      var row = document.createElement("tr");
      var mine = own.indexOf(bid.paddle) !== -1;
      [String(bid.sequence), "#" + bid.paddle + (mine ? " ✓" : ""), yuan(bid.price_after), localTime(bid.placed_at)]
        .forEach(function (text) {
          var cell = document.createElement("td");
          cell.textContent = text;
          row.appendChild(cell);
        });
      body.appendChild(row);
    });
  }

  function render(state) {
    status = state.status;
    endsAt = Date.parse(state.ends_at);
    offset = Date.parse(state.server_time) - Date.now();
    own = state.own_paddles || own;
    field("price").textContent = yuan(state.price);
    field("minimum_bid").textContent = yuan(state.minimum_bid);
    field("leader_paddle").textContent = state.leader_paddle ? "#" + state.leader_paddle : "—";
    field("bid_count").textContent = state.bid_count;
    var ends = field("ends_at");
    ends.setAttribute("datetime", state.ends_at);
    ends.textContent = localDateTime(state.ends_at);
    var you = field("you");
    if (own.length && state.leader_paddle) {
      you.textContent = state.leading ? root.dataset.labelLeading : root.dataset.labelOutbid;
      you.className = "you " + (state.leading ? "leading" : "outbid");
    } else {
      you.textContent = "";
    }
    var badge = field("status");
    badge.className = "status status-" + state.status;
    renderBids(state.bids);
    // Keep the bid forms' suggested amount at the minimum until the bidder types their own.
    document.querySelectorAll('input[name="maximum"]').forEach(function (input) {
      if (!input.dataset.touched && input.value !== "" && Number(input.value) < Number(state.minimum_bid)) {
        input.value = state.minimum_bid;
      }
    });
    tick();
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" }, cache: "no-store" })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (state) {
        if (state) {
          render(state);
        }
      })
      .catch(function () {
        /* a missed poll is retried by the next one */
      })
      .then(function () {
        if (isOpen() || Date.now() + offset < endsAt + 60000) {
          window.setTimeout(poll, POLL_MS);
        }
      });
  }

  document.querySelectorAll('input[name="maximum"]').forEach(function (input) {
    input.addEventListener("input", function () {
      input.dataset.touched = "1";
    });
  });
  window.setInterval(tick, 1000);
  tick();
  poll();
})();
