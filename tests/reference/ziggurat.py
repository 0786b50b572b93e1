"""Independent reference for brink's ziggurat samplers (src/sim/ziggurat.rs): the tables
rebuilt from Marsaglia and Tsang's R and V with Python's math, the draws from
streams.py's ChaCha8 in brink's stream layout (key sha256("brink/v1" || seed_le || name),
stream = trial, block counter = purpose << 60, u64 = two u32 words, low first).
Prints the first draws of the golden streams of tests/distributions.rs::golden_vectors:
run python3 tests/reference/ziggurat.py"""
import hashlib, math, os, sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import importlib.util
spec = importlib.util.spec_from_file_location("streams", os.path.join(os.path.dirname(os.path.abspath(__file__)), "streams.py"))
streams = importlib.util.module_from_spec(spec)
import io, contextlib
with contextlib.redirect_stdout(io.StringIO()):
    spec.loader.exec_module(streams)

class Stream:
    def __init__(self, seed, name, trial, purpose):
        self.key = hashlib.sha256(b"brink/v1" + seed.to_bytes(8, 'little') + name.encode()).digest()
        self.trial, self.counter, self.words = trial, purpose << 60, []
    def next_u64(self):
        if not self.words:
            w = streams.block(self.key, self.counter, self.trial)
            self.counter += 1
            self.words = [w[2 * i] | (w[2 * i + 1] << 32) for i in range(8)]
        return self.words.pop(0)
    def uniform(self): return (self.next_u64() >> 11) * 2.0 ** -53
    def uniform_open0(self): return 1.0 - self.uniform()

def table(r, v, f, f_inv):
    x = [0.0] * 257
    x[0], x[1] = v / f(r), r
    for i in range(1, 255):
        x[i + 1] = f_inv(v / x[i] + f(x[i]))
    fs = [f(t) for t in x]
    fs[256] = 1.0
    return x, fs

NR, NV = 3.654152885361009, 0.00492867323399
ER, EV = 7.69711747013105, 0.003949659822581557
nf = lambda t: math.exp(-0.5 * t * t)
NX, NF = table(NR, NV, nf, lambda y: math.sqrt(-2.0 * math.log(y)))
EX, EF = table(ER, EV, lambda t: math.exp(-t), lambda y: -math.log(y))
one_to_two = lambda bits: 1.0 + (bits >> 12) * 2.0 ** -52

def normal(s):
    while True:
        bits = s.next_u64(); i = bits & 0xff
        u = 2.0 * one_to_two(bits) - 3.0
        x = u * NX[i]
        if abs(x) < NX[i + 1]: return x
        if i == 0:
            a, b = 1.0, 0.0
            while -2.0 * b < a * a:
                a = math.log(s.uniform_open0()) / NR
                b = math.log(s.uniform_open0())
            return a - NR if u < 0 else NR - a
        if NF[i + 1] + (NF[i] - NF[i + 1]) * s.uniform() < nf(x): return x

def exp1(s):
    while True:
        bits = s.next_u64(); i = bits & 0xff
        x = (one_to_two(bits) - 1.0) * EX[i]
        if x < EX[i + 1]: return x
        if i == 0: return ER - math.log(s.uniform_open0())
        if EF[i + 1] + (EF[i] - EF[i + 1]) * s.uniform() < math.exp(-x): return x

DELAY = 4
s = Stream(1, "golden", 3, DELAY)
print("exponential(2):", [2.0 * exp1(s) for _ in range(3)])
s = Stream(1, "golden", 3, DELAY)
print("lognormal(3, 0.7):", [3.0 * math.exp(0.7 * normal(s)) for _ in range(3)])
