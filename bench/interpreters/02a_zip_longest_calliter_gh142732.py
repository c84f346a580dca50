# gh-142732 variant A: zip_longest(iter(f, SENTINEL), ...) where f re-enters the
# same zip_longest.  The inner call exhausts the callable-iterator, zip_longest drops
# its only reference (frees it) while the outer calliter_iternext is still running.
import itertools, sys
SENTINEL = object()
depth = 0
def f():
    global depth
    depth += 1
    if depth == 1:
        print("outer call: re-entering zip_longest", flush=True)
        r = next(z, None)
        print("inner next() returned", r, flush=True)
        return 1            # outer returns a non-sentinel value
    return SENTINEL         # re-entrant call exhausts the iterator
z = itertools.zip_longest(iter(f, SENTINEL), itertools.repeat(None))
try:
    print("outer next() ->", next(z))
    print("RESULT: CLOSED? - no crash (state may be inconsistent)")
except Exception as e:
    print("RESULT: CLOSED - exception:", type(e).__name__, e)
