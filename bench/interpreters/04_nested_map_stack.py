# 300,000 nested map objects: list(m) recurses map_next -> map_next in C with no
# recursion guard -> C stack overflow.
import sys
m = [1]
for i in range(300000):
    m = map(lambda x: x, m)
print("built", flush=True)
try:
    r = list(m)
    print("RESULT: CLOSED? - completed:", r)
except RecursionError as e:
    print("RESULT: CLOSED - RecursionError:", e)
except Exception as e:
    print("RESULT: CLOSED - exception:", type(e).__name__, e)
