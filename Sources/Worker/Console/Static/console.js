// The OCPP console's live updates: a page that shows stations ([data-live] lists
// their ids) follows them over server-sent events and rewrites their rows in place.
// The fleet page (#fleet) also rewrites its counts (`counts` events) and, for a
// changed station it does not show (`change` events) that would be on it, shows
// "N new or changed stations — reload".
// EventSource reconnects by itself (the server asks for 1 s); when it gives up (an
// answer that is not an event stream, say while the worker restarts) it is opened
// again after 2 s.
(function () {
  "use strict";
  var holders = document.querySelectorAll("[data-live]");
  var ids = [];
  holders.forEach(function (holder) {
    holder.dataset.live.split(",").forEach(function (id) { if (id) ids.push(id); });
  });
  var fleet = document.getElementById("fleet");
  if ((!ids.length && !fleet) || !window.EventSource) return;

  var seen = (window.liveSeen = {});

  function text(value) { return value === null || value === undefined ? "" : String(value); }

  function connectorSpan(c) {
    var span = document.createElement("span");
    span.className = "connector status-" + text(c.status);
    span.dataset.connector = c.connectorId;
    span.textContent = "#" + c.connectorId + " " + text(c.status) + " · " + text(c.errorCode);
    return span;
  }

  function connectorRow(c) {
    var row = document.createElement("tr");
    row.dataset.connector = c.connectorId;
    [c.connectorId, c.status, c.errorCode, c.info, c.statusAt].forEach(function (value, index) {
      var cell = document.createElement("td");
      if (index === 1) cell.className = "status-" + text(value);
      cell.textContent = text(value);
      row.appendChild(cell);
    });
    return row;
  }

  function update(station) {
    document.querySelectorAll('[data-station="' + station.id + '"]').forEach(function (holder) {
      holder.querySelectorAll("[data-field]").forEach(function (cell) {
        var field = cell.dataset.field;
        if (field === "online") {
          cell.textContent = station.online ? "online" : "offline";
          cell.className = station.online ? "online" : "offline";
        } else if (field === "connectors") {
          cell.textContent = "";
          station.connectors.forEach(function (c) {
            cell.appendChild(connectorSpan(c));
            cell.appendChild(document.createTextNode(" "));
          });
        } else if (field === "connectorRows") {
          cell.textContent = "";
          station.connectors.forEach(function (c) { cell.appendChild(connectorRow(c)); });
        } else if (field in station) {
          cell.textContent = text(station[field]);
        }
      });
    });
    // When each connector state was first shown, for the browser test's 2-second check.
    station.connectors.forEach(function (c) {
      var key = station.identity + ":" + c.connectorId + ":" + c.status;
      if (!(key in seen)) seen[key] = Date.now();
    });
  }

  function renderCounts(counts) {
    var holder = document.getElementById("counts");
    if (!holder) return;
    holder.textContent = "";
    function add(className, label) {
      var span = document.createElement("span");
      span.className = className;
      span.textContent = label;
      holder.appendChild(span);
      holder.appendChild(document.createTextNode(" "));
    }
    add("count", counts.total + " stations");
    add("count online", counts.online + " online");
    add("count offline", counts.offline + " offline");
    (counts.statuses || []).forEach(function (s) { add("count status-" + s.status, s.status + ": " + s.count); });
  }

  // Whether a station the page does not show would be on it (after a reload): the
  // page's filter, and its identity range (after the previous page, up to its last
  // row when there is a next page).
  function wouldShow(station) {
    var f = fleet.dataset;
    if (f.filterOnline && (f.filterOnline === "online") !== station.online) return false;
    if (f.filterStatus && !station.connectors.some(function (c) {
      return c.connectorId > 0 && c.status === f.filterStatus;
    })) return false;
    var identity = station.identity;
    if (f.filterQ && identity.slice(0, f.filterQ.length) !== f.filterQ) return false;
    if (f.filterAfter && !(identity > f.filterAfter)) return false;
    if (f.filterLast && identity > f.filterLast) return false;
    return true;
  }

  var changed = {};
  var allChanged = false;
  function noteChange(station) {
    if (station.all) allChanged = true;
    else if (ids.indexOf(String(station.id)) < 0 && wouldShow(station)) changed[station.id] = true;
    else return;
    var notice = document.getElementById("fleet-notice");
    if (!notice) return;
    var n = Object.keys(changed).length;
    notice.textContent = "";
    notice.appendChild(document.createTextNode(
      allChanged ? "Stations changed — "
        : n + " new or changed station" + (n === 1 ? "" : "s") + " — "));
    var link = document.createElement("a");
    link.href = window.location.href;
    link.textContent = "reload";
    notice.appendChild(link);
    notice.hidden = false;
  }

  function connect() {
    var source = new EventSource("/live?stations=" + ids.join(",") + (fleet ? "&fleet=1" : ""));
    source.addEventListener("open", function () { document.body.dataset.live = "open"; });
    source.addEventListener("station", function (event) { update(JSON.parse(event.data)); });
    source.addEventListener("counts", function (event) { renderCounts(JSON.parse(event.data)); });
    source.addEventListener("change", function (event) { if (fleet) noteChange(JSON.parse(event.data)); });
    source.addEventListener("error", function () {
      document.body.dataset.live = "reconnecting";
      if (source.readyState === EventSource.CLOSED) setTimeout(connect, 2000);
    });
  }
  connect();
})();

// A select marked data-autosubmit submits its (GET) form when it changes: choosing
// a command shows its fields.
document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
  select.addEventListener("change", function () { select.form.submit(); });
});

// The commands sent: while one is still pending or sent, the list is read again
// every 2 s (the same page, fetched), so the station's answer shows up by itself.
(function () {
  "use strict";
  var body = document.querySelector("#history tbody");
  if (!body || !window.fetch || !window.DOMParser) return;
  function waiting(tbody) {
    return Array.prototype.some.call(tbody.querySelectorAll(".command-status"), function (cell) {
      return cell.textContent === "pending" || cell.textContent === "sent";
    });
  }
  function poll() {
    if (!waiting(document.querySelector("#history tbody"))) return;
    fetch(window.location.href, { credentials: "same-origin" })
      .then(function (reply) { return reply.ok ? reply.text() : Promise.reject(reply.status); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").querySelector("#history tbody");
        if (fresh) document.querySelector("#history tbody").replaceWith(fresh);
      })
      .catch(function () {})
      .then(function () { setTimeout(poll, 2000); });
  }
  setTimeout(poll, 1000);
})();
