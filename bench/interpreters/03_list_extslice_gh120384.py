# gh-120384: L[::-1] = gen(): the slice length is computed before the generator is
# consumed; the generator clears L, then list_ass_subscript writes len(original)
# items into the freed/NULL item array.
def evil(lst):
    yield from list(lst)   # same number of items as the slice
    lst.clear()            # ... then empty the target list
L = list(range(10))
try:
    L[::-1] = evil(L)
    print("assignment succeeded; len(L) =", len(L), "L =", L)
    print("RESULT: THROUGH? - wrote into a cleared list without error")
except Exception as e:
    print("RESULT: CLOSED - exception:", type(e).__name__, e)
