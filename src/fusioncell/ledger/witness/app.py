"""The witness over HTTP: ``POST /add-checkpoint`` and what an operator needs to set it up."""

from __future__ import annotations

from collections.abc import Callable

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from fusioncell.ledger.checkpoint import Cosigner
from fusioncell.ledger.note import Ed25519Verifier
from fusioncell.ledger.witness.limits import RateLimiter
from fusioncell.ledger.witness.protocol import SIZE_CONTENT_TYPE, Refusal, Witness
from fusioncell.ledger.witness.state import WitnessState

MAX_BODY_SIZE = 64 * 1024  # a checkpoint with 100 signatures and the longest proof is ~15 KiB


def create_witness_app(
    *,
    cosigner: Cosigner,
    log_verifier: Ed25519Verifier,
    state: WitnessState,
    clock: Callable[[], int],
    limiter: RateLimiter | None = None,
) -> Starlette:
    """The witness's routes; ``limiter`` (default: ``RateLimiter()``) paces add-checkpoint
    per client address, as the connection shows it (behind a proxy, that is the proxy's)."""
    witness = Witness(cosigner=cosigner, log_verifier=log_verifier, state=state, clock=clock)
    verifier_key = cosigner.verifier().key_string()
    limiter = limiter if limiter is not None else RateLimiter()

    async def add_checkpoint(request: Request) -> Response:
        source = request.client.host if request.client is not None else ""
        if wait := limiter.take(source):  # before the body is read or a signature checked
            return PlainTextResponse(
                "too many requests from this address\n", 429, headers={"Retry-After": str(wait)}
            )
        body = await _read_body(request)
        if body is None:
            return PlainTextResponse(f"request body exceeds {MAX_BODY_SIZE} bytes\n", 413)
        try:
            # In a worker thread: the lock, the signature checks and the fsyncs may block.
            lines = await run_in_threadpool(witness.add_checkpoint, body)
        except Refusal as refusal:
            return _refusal_response(refusal)
        return PlainTextResponse(lines)

    async def key(request: Request) -> Response:
        return PlainTextResponse(verifier_key + "\n")

    async def healthz(request: Request) -> Response:
        return PlainTextResponse("ok\n")

    async def evidence(request: Request) -> Response:
        return JSONResponse(state.evidence)

    return Starlette(
        routes=[
            Route("/add-checkpoint", add_checkpoint, methods=["POST"]),
            Route("/", key, methods=["GET"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/evidence", evidence, methods=["GET"]),
        ]
    )


async def _read_body(request: Request) -> bytes | None:
    """The body, or None past ``MAX_BODY_SIZE`` (checked as it streams, not after)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_SIZE:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY_SIZE:
            return None
    return bytes(body)


def _refusal_response(refusal: Refusal) -> Response:
    if refusal.cosigned_size is not None:
        # An explicit header: Starlette would append "; charset=utf-8" to a text/ media type.
        headers = {"Content-Type": SIZE_CONTENT_TYPE}
        return Response(f"{refusal.cosigned_size}\n", refusal.status, headers=headers)
    return PlainTextResponse(refusal.reason + "\n", refusal.status)
