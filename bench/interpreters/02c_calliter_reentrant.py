# iter(callable, sentinel) re-entrance in general (no zip_longest): f calls next() on
# its own callable-iterator; the inner call hits the sentinel and Py_CLEARs
# it_callable/it_sentinel while the outer call still needs them (cf. gh-101892).
SENTINEL = object()
depth = 0
def f():
    global depth
    depth += 1
    if depth == 1:
        r = next(it, "INNER-EXHAUSTED")
        print("inner next() ->", r, flush=True)
        return "outer-value"
    return SENTINEL
it = iter(f, SENTINEL)
try:
    print("outer next() ->", next(it))
    print("after: next() ->", next(it, "EXHAUSTED"))
    print("RESULT: CLOSED - handled without crash")
except Exception as e:
    print("RESULT: CLOSED - exception:", type(e).__name__, e)
