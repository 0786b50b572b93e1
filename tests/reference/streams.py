"""Independent reference for brink's random streams (src/rng.rs): ChaCha8 written from the
RFC 7539 quarter-round with 8 rounds and rand_chacha's layout (64-bit block counter in words
12-13, 64-bit stream id in words 14-15, u64 = two u32 words, low first). Its output is the
golden vector in src/rng.rs; run: python3 tests/reference/streams.py"""
import hashlib, struct
def rotl(v,c): return ((v<<c)&0xffffffff)|(v>>(32-c))
def qr(x,a,b,c,d):
    x[a]=(x[a]+x[b])&0xffffffff; x[d]=rotl(x[d]^x[a],16)
    x[c]=(x[c]+x[d])&0xffffffff; x[b]=rotl(x[b]^x[c],12)
    x[a]=(x[a]+x[b])&0xffffffff; x[d]=rotl(x[d]^x[a],8)
    x[c]=(x[c]+x[d])&0xffffffff; x[b]=rotl(x[b]^x[c],7)
def block(key, counter, stream, rounds=8):
    s=[0x61707865,0x3320646e,0x79622d32,0x6b206574]+list(struct.unpack('<8I',key))+[counter&0xffffffff,counter>>32,stream&0xffffffff,stream>>32]
    x=s[:]
    for _ in range(rounds//2):
        qr(x,0,4,8,12);qr(x,1,5,9,13);qr(x,2,6,10,14);qr(x,3,7,11,15)
        qr(x,0,5,10,15);qr(x,1,6,11,12);qr(x,2,7,8,13);qr(x,3,4,9,14)
    return [(a+b)&0xffffffff for a,b in zip(x,s)]
key=hashlib.sha256(b"brink/v1"+(20201220).to_bytes(8,'little')+b"rocket_attack").digest()
w=block(key, 1<<60, 7)
print([w[0]|(w[1]<<32), w[2]|(w[3]<<32), w[4]|(w[5]<<32)])
