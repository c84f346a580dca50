# gh-119004: OrderedDict.__eq__ walks both linked lists while calling key __eq__;
# an __eq__ that clears one OrderedDict frees the nodes being walked.
import collections
count = 0
class Evil:
    def __eq__(self, other):
        global count
        if count == 1:
            l.clear()
        count += 1
        return True
    def __hash__(self):
        return 3
l = collections.OrderedDict({Evil(): 4, 5: 6})
r = collections.OrderedDict({Evil(): 4, 5: 6})
try:
    res = l == r
    junk = [collections.OrderedDict({i: i}) for i in range(200)]
    print("l == r ->", res)
    print("RESULT: CLOSED? - no crash, no exception (UAF may be silent)")
except Exception as e:
    print("RESULT: CLOSED - exception:", type(e).__name__, e)
