"""The record in a real browser: the checkpoint, search in place, and Verify computed by the
page's own script (WebCrypto) against the checkpoint — without leaving the host."""

from __future__ import annotations

import re
import time
from typing import Any

from playwright.sync_api import Page, expect
from tests.e2e.browsing import Requests, log_in

from fusioncell.ledger.entries import b64
from fusioncell.ledger.tree import MemoryHashStore, leaf_hash, prove_record, tree_hash

CHECKPOINT_WAIT_SECONDS = 15


def open_record_with_a_checkpoint(page: Page, url: str) -> int:
    """The server signs a checkpoint within a second of an append: reload until it shows."""
    deadline = time.monotonic() + CHECKPOINT_WAIT_SECONDS
    while True:
        page.goto(url)
        size = page.locator("#checkpoint").get_attribute("data-size")
        if size is not None:
            return int(size)
        assert time.monotonic() < deadline, "no checkpoint appeared on the record page"
        page.wait_for_timeout(250)


def test_a_supervisor_sees_the_checkpoint_searches_and_verifies_entries_in_the_browser(
    page: Page, server: str, demo_password: str, requests: Requests
) -> None:
    log_in(page, server, "supervisor.chair", demo_password)

    size = open_record_with_a_checkpoint(page, f"{server}/record")

    # The demo's entries (its geometry one version and three signatures), and the log-in since.
    assert size >= 43
    expect(page.locator("#checkpoint .checkpoint-size")).to_have_text(str(size))
    expect(page.locator("#checkpoint .checkpoint-root")).to_have_text(
        re.compile(r"^[A-Za-z0-9+/]{43}=$")
    )
    expect(page.locator("#checkpoint code").first).to_have_text("fusioncell.local/cell")

    # Search in place: htmx swaps the list and pushes the URL, the page itself stays.
    page.evaluate("window.recordPageMarker = 'still here'")
    page.fill("#record-type", "log.policy")
    page.click(".record-search button[type=submit]")
    expect(page).to_have_url(re.compile(r"/record\?type=log\.policy$"))
    expect(page.locator("tr.entry")).to_have_count(1)
    assert page.evaluate("window.recordPageMarker") == "still here"

    policy = page.locator("tr.entry[data-index='0']")
    policy.locator("button.verify").click()
    expect(policy).to_have_attribute("data-verified", "true", timeout=10_000)
    result = policy.locator(".verify-result")
    expect(result).to_contain_text(re.compile(r"Verified in checkpoint \d+\."))
    expect(result).to_contain_text("The body matches the hash in the signed header.")

    # An entry deep in a larger tree: a proof with turns both ways.
    page.goto(f"{server}/record?before=22")
    enrolment = page.locator("#entry-21")
    enrolment.locator("button.verify").click()
    expect(enrolment).to_have_attribute("data-verified", "true", timeout=10_000)

    # A row whose shown body was altered no longer verifies.
    enrolment.locator("pre.body").evaluate("pre => { pre.textContent += ' ' }")
    enrolment.locator("button.verify").click()
    expect(enrolment).to_have_attribute("data-verified", "false", timeout=10_000)
    expect(enrolment).to_have_attribute("data-verify-reason", "body")

    # An entry beyond the checkpoint is reported as such, not as a failure of the log.
    enrolment.evaluate("row => row.setAttribute('data-index', '999999')")
    enrolment.locator("button.verify").click()
    expect(enrolment).to_have_attribute("data-verify-reason", "not-yet", timeout=10_000)
    expect(enrolment.locator(".verify-result")).to_contain_text("newer than the latest checkpoint")

    requests.assert_stayed_on(server)


def test_the_pages_rfc_9162_check_accepts_every_true_proof_and_refuses_altered_ones(
    page: Page, server: str, demo_password: str, requests: Requests
) -> None:
    log_in(page, server, "alpha.liaison", demo_password)
    page.goto(f"{server}/record")
    page.wait_for_function("window.fusioncellRecord !== undefined")
    store = MemoryHashStore()
    leaves = [b"leaf %d" % i for i in range(19)]
    for leaf in leaves:
        store.append(leaf)
    vectors: list[dict[str, Any]] = [
        {
            "leaf": b64(leaves[index]),
            "leaf_hash": leaf_hash(leaves[index]).hex(),
            "index": index,
            "size": size,
            "proof": [b64(h) for h in prove_record(size, index, store)],
            "root": b64(tree_hash(size, store)),
        }
        for size in range(1, len(leaves) + 1)
        for index in range(size)
    ]

    outcomes = page.evaluate(
        """async (vectors) => {
          const R = window.fusioncellRecord;
          const bytes = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
          const hex = (b) => Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
          const accepts = async (hash, index, size, proof, root) => {
            try { await R.verifyInclusion(hash, index, size, proof, root); return true; }
            catch (err) { if (err instanceof R.Failure) return false; throw err; }
          };
          const out = [];
          for (const v of vectors) {
            const hash = await R.leafHash(bytes(v.leaf));
            const proof = v.proof.map(bytes);
            const root = bytes(v.root);
            const flipped = root.slice(); flipped[0] ^= 1;
            const other = (v.index + 1) % v.size;
            out.push({
              hash: hex(hash) === v.leaf_hash,
              valid: await accepts(hash, v.index, v.size, proof, root),
              badRoot: await accepts(hash, v.index, v.size, proof, flipped),
              badIndex: v.size > 1 && await accepts(hash, other, v.size, proof, root),
              short: proof.length > 0 && await accepts(hash, v.index, v.size, proof.slice(1), root),
              long: await accepts(hash, v.index, v.size, proof.concat([root]), root),
            });
          }
          return out;
        }""",
        vectors,
    )

    assert len(outcomes) == len(vectors) == 190
    for vector, outcome in zip(vectors, outcomes, strict=True):
        where = f"index {vector['index']} of {vector['size']}"
        assert outcome["hash"], where
        assert outcome["valid"], where
        refused = ("badRoot", "badIndex", "short", "long")
        assert not any(outcome[name] for name in refused), (where, outcome)
    requests.assert_stayed_on(server)
