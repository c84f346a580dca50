# gh-120298: list_richcompare borrows vl->ob_item[i] for the final ordering compare;
# an __lt__ that clears the list frees the item mid-compare; the reflected __gt__
# then receives the dead object (detected via __del__ having already run).
import os, sys
leaked = []
dead = set()
class Evil:
    def __del__(self):
        dead.add(id(self))
    def __eq__(self, o): return False
    def __lt__(self, o):
        v.clear()
        return NotImplemented
class Catch:
    def __eq__(self, o): return False
    def __gt__(self, o):
        leaked.append(id(o) in dead); return False
v = [Evil()]
w = [Catch()]
try:
    print("v < w ->", v < w)
except Exception as e:
    print("exception:", type(e).__name__, e)
if any(leaked):
    print("RESULT: THROUGH - reflected __gt__ received an already-deallocated object (UAF)")
else:
    print("RESULT: CLOSED - item kept alive during comparison")
sys.stdout.flush(); os._exit(0)
