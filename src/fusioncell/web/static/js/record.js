/*
 * fusioncell record: check in the browser that an entry is in the log.
 *
 * Each row of the record page (<tr data-index data-type data-author data-body-hash
 * [data-salt]>) has a <button data-verify>. A click:
 *
 *   1. fetches /log/checkpoint, the latest checkpoint that counts (origin, size and root hash
 *      are its first three lines, C2SP tlog-checkpoint);
 *   2. fetches the inclusion proof of the entry in that tree and the entry's leaf data;
 *   3. hashes the leaf itself, SHA-256(0x00 || leaf), and checks it against the proof;
 *   4. checks the leaf is this row's entry (same type, author and body hash in its header);
 *   5. runs the RFC 9162 section 2.1.3.2 algorithm up to the checkpoint's root hash, with
 *      node hash SHA-256(0x01 || left || right);
 *   6. when the row shows a body, checks SHA-256(salt || body) against the signed header.
 *
 * The server's own claims (its root_hash and leaf_hash fields) are never trusted for the
 * result: only the hashes computed here are compared with the checkpoint. What this does not
 * do: check the checkpoint's signatures or the author's signature (a party's own tool, such
 * as `fusioncell verify`, does that against keys it has pinned).
 *
 * The row gets data-verified="true" or "false", and data-verify-reason with a short code when
 * it failed (no-checkpoint, not-yet, request, leaf-hash, leaf-mismatch, malformed, root, body,
 * no-webcrypto, error). Messages come translated from <div id="record-i18n" data-i18n>, keyed
 * by their English text.
 *
 * Plain script, no build step, no third-party code; needs fetch, BigInt and WebCrypto.
 * window.fusioncellRecord exposes the pieces for tests.
 */
(function () {
  "use strict";

  document.documentElement.classList.add("record-js");

  var MSG = {
    verifying: "Verifying…",
    verified: "Verified in checkpoint %(size)s.",
    bodyOk: "The body matches the hash in the signed header.",
    noCheckpoint: "No checkpoint has been cosigned yet. Try again in a second.",
    notYet:
      "This entry is newer than the latest checkpoint (size %(size)s). " +
      "The next checkpoint follows within a second: try again.",
    badCheckpoint: "The checkpoint could not be read.",
    leafHash: "The leaf hash does not match the proof.",
    leafMismatch: "The logged leaf does not match this entry.",
    root: "The inclusion proof does not lead to the checkpoint's root.",
    malformed: "The inclusion proof is malformed.",
    body: "The body does not match the hash in the signed header.",
    request: "A request to the server failed: %(reason)s",
    noWebCrypto: "This browser cannot compute SHA-256 here: WebCrypto needs HTTPS or localhost.",
    error: "Verification failed: %(reason)s"
  };

  var labels = null;

  function translations() {
    if (labels === null) {
      labels = {};
      var holder = document.getElementById("record-i18n");
      var raw = holder ? holder.getAttribute("data-i18n") : null;
      if (raw) {
        try {
          labels = JSON.parse(raw) || {};
        } catch (err) {
          if (window.console) window.console.warn("fusioncell record: bad data-i18n", err);
        }
      }
    }
    return labels;
  }

  function t(key, vars) {
    var english = MSG[key];
    var given = translations()[english];
    var text = typeof given === "string" && given ? given : english;
    return text.replace(/%\((\w+)\)s/g, function (whole, name) {
      return vars && Object.prototype.hasOwnProperty.call(vars, name) ? String(vars[name]) : whole;
    });
  }

  // A failure with a code for tests and a translated message for people.
  function Failure(reason, key, vars) {
    this.reason = reason;
    this.message = t(key, vars);
  }

  // -- bytes and hashes ---------------------------------------------------------------------

  function fromBase64(text) {
    if (typeof text !== "string") throw new Failure("malformed", "malformed");
    var binary = window.atob(text);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  }

  function concat(parts) {
    var length = 0;
    parts.forEach(function (part) {
      length += part.length;
    });
    var out = new Uint8Array(length);
    var offset = 0;
    parts.forEach(function (part) {
      out.set(part, offset);
      offset += part.length;
    });
    return out;
  }

  function equal(a, b) {
    if (a.length !== b.length) return false;
    var diff = 0;
    for (var i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
    return diff === 0;
  }

  function hex(bytes) {
    var out = "";
    for (var i = 0; i < bytes.length; i++) {
      out += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16);
    }
    return out;
  }

  function subtle() {
    var c = window.crypto;
    if (!c || !c.subtle || !window.isSecureContext) {
      throw new Failure("no-webcrypto", "noWebCrypto");
    }
    return c.subtle;
  }

  async function sha256(bytes) {
    return new Uint8Array(await subtle().digest("SHA-256", bytes));
  }

  function leafHash(leaf) {
    return sha256(concat([new Uint8Array([0]), leaf]));
  }

  function nodeHash(left, right) {
    return sha256(concat([new Uint8Array([1]), left, right]));
  }

  /*
   * RFC 9162 section 2.1.3.2, step by step. index and size may be numbers, strings or
   * BigInts (BigInt keeps sizes past 2^53 exact). Resolves when the proof leads from the
   * leaf hash to the root; rejects with a Failure otherwise.
   */
  async function verifyInclusion(hash, index, size, proof, root) {
    var fn = BigInt(index);
    var sn = BigInt(size) - 1n;
    if (fn < 0n || fn > sn) throw new Failure("malformed", "malformed");
    [hash, root].concat(proof).forEach(function (h) {
      if (!(h instanceof Uint8Array) || h.length !== 32) {
        throw new Failure("malformed", "malformed");
      }
    });
    var r = hash;
    for (var i = 0; i < proof.length; i++) {
      var p = proof[i];
      if (sn === 0n) throw new Failure("malformed", "malformed");
      if ((fn & 1n) === 1n || fn === sn) {
        r = await nodeHash(p, r);
        while (fn !== 0n && (fn & 1n) === 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      } else {
        r = await nodeHash(r, p);
      }
      fn >>= 1n;
      sn >>= 1n;
    }
    if (sn !== 0n) throw new Failure("malformed", "malformed");
    if (!equal(r, root)) throw new Failure("root", "root");
  }

  // The checkpoint body: origin, tree size, root hash, one per line (C2SP tlog-checkpoint).
  function parseCheckpoint(text) {
    var lines = String(text).split("\n");
    if (lines.length < 4 || !/^(0|[1-9][0-9]*)$/.test(lines[1])) {
      throw new Failure("malformed", "badCheckpoint");
    }
    var root;
    try {
      root = fromBase64(lines[2]);
    } catch (err) {
      root = null;
    }
    if (!root || root.length !== 32 || !lines[0]) throw new Failure("malformed", "badCheckpoint");
    return { origin: lines[0], size: BigInt(lines[1]), root: root };
  }

  // -- talking to the log -------------------------------------------------------------------

  async function get(path, type) {
    var response;
    try {
      response = await window.fetch(path, {
        credentials: "same-origin",
        cache: "no-store",
        headers: { Accept: type }
      });
    } catch (err) {
      throw new Failure("request", "request", { reason: path + ": " + err.message });
    }
    if (!response.ok) {
      var failure = new Failure("request", "request", {
        reason: path + ": HTTP " + response.status
      });
      failure.status = response.status;
      throw failure;
    }
    return type === "application/json" ? response.json() : response.text();
  }

  async function latestCheckpoint() {
    try {
      return parseCheckpoint(await get("/log/checkpoint", "text/plain"));
    } catch (err) {
      if (err instanceof Failure && err.status === 404) {
        throw new Failure("no-checkpoint", "noCheckpoint");
      }
      throw err;
    }
  }

  function decodeLeaf(leaf) {
    try {
      var decoded = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(leaf));
      return decoded && typeof decoded.header === "object" && decoded.header ? decoded : null;
    } catch (err) {
      return null;
    }
  }

  /*
   * Verify one row of the record page. Resolves to {size, body} (body true when the shown
   * body was checked too); rejects with a Failure.
   */
  async function verifyEntry(row) {
    subtle();
    var index = BigInt(row.getAttribute("data-index"));
    var checkpoint = await latestCheckpoint();
    if (index >= checkpoint.size) {
      throw new Failure("not-yet", "notYet", { size: checkpoint.size.toString() });
    }
    var query = "index=" + index.toString() + "&tree_size=" + checkpoint.size.toString();
    var answers = await Promise.all([
      get("/api/v1/log/proof/inclusion?" + query, "application/json"),
      get("/api/v1/log/entries/" + index.toString(), "application/json")
    ]);
    var proof = answers[0];
    var entry = answers[1];

    var leaf = fromBase64(entry.leaf);
    var hash = await leafHash(leaf);
    if (!equal(hash, fromBase64(proof.leaf_hash))) throw new Failure("leaf-hash", "leafHash");

    var decoded = decodeLeaf(leaf);
    var header = decoded ? decoded.header : {};
    if (
      !decoded ||
      header.type !== row.getAttribute("data-type") ||
      header.author !== row.getAttribute("data-author") ||
      header.body !== row.getAttribute("data-body-hash")
    ) {
      throw new Failure("leaf-mismatch", "leafMismatch");
    }

    if (!Array.isArray(proof.proof)) throw new Failure("malformed", "malformed");
    var path = proof.proof.map(fromBase64);
    await verifyInclusion(hash, index, checkpoint.size, path, checkpoint.root);

    var body = false;
    var salt = row.getAttribute("data-salt");
    var shown = row.querySelector("pre.body");
    if (salt && shown) {
      var text = new TextEncoder().encode(shown.textContent);
      var digest = await sha256(concat([fromBase64(salt), text]));
      if (hex(digest) !== header.body) throw new Failure("body", "body");
      body = true;
    }
    return { size: checkpoint.size.toString(), body: body };
  }

  // -- the page -----------------------------------------------------------------------------

  function show(row, button, ok, text, reason) {
    var result = row.querySelector(".verify-result");
    if (result) {
      result.textContent = text;
      result.classList.toggle("verified", ok);
      result.classList.toggle("failed", !ok);
    }
    row.setAttribute("data-verified", ok ? "true" : "false");
    if (reason) {
      row.setAttribute("data-verify-reason", reason);
    } else {
      row.removeAttribute("data-verify-reason");
    }
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }

  function onVerify(button) {
    var row = button.closest("tr[data-index]");
    if (!row || button.disabled) return;
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    row.removeAttribute("data-verified");
    row.removeAttribute("data-verify-reason");
    var result = row.querySelector(".verify-result");
    if (result) {
      result.classList.remove("verified", "failed");
      result.textContent = t("verifying");
    }
    verifyEntry(row).then(
      function (outcome) {
        var text = t("verified", { size: outcome.size });
        if (outcome.body) text += " " + t("bodyOk");
        show(row, button, true, text, null);
      },
      function (err) {
        if (err instanceof Failure) {
          show(row, button, false, err.message, err.reason);
        } else {
          if (window.console) window.console.error("fusioncell record:", err);
          var reason = (err && err.message) || String(err);
          show(row, button, false, t("error", { reason: reason }), "error");
        }
      }
    );
  }

  document.addEventListener("click", function (evt) {
    var target = evt.target;
    var button = target && target.closest ? target.closest("button[data-verify]") : null;
    if (button) {
      evt.preventDefault();
      onVerify(button);
    }
  });

  window.fusioncellRecord = {
    leafHash: leafHash,
    nodeHash: nodeHash,
    verifyInclusion: verifyInclusion,
    parseCheckpoint: parseCheckpoint,
    verifyEntry: verifyEntry,
    Failure: Failure
  };
})();
