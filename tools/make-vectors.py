# Generates test/vectors/vectors.json (run from the repo root: python3 tools/make-vectors.py).
# The vectors are data: the same file drives the core under Node and inside XS.
import json
F=[]  # frame vectors
def fv(name, rfc, inp, frames=(), error=None, sent=None, sentHex=None, eof=False, options=None):
    v={"name":name,"rfc":rfc,"input":inp,"expect":{"frames":list(frames)}}
    if error: v["expect"]["error"]="WEBSOCK_ERR_"+error
    if sent is not None: v["expect"]["sent"]=sent
    if sentHex: v["expect"]["sentHex"]=sentHex
    if eof: v["eof"]=True
    if options: v["options"]=options
    F.append(v)
def hx(s): return {"hex":s}
def fr(op, payload, fin=True, **kw): d={"opcode":op,"payload":payload,"fin":fin}; d.update(kw); return {"frame":d}
def ex(op, payload, fin=True, **kw): d={"opcode":op,"fin":fin,"payload":payload}; d.update(kw); return d
def close(code): return {"opcode":8,"payload":{"hex":"%04x"%code}}
T=lambda s:{"text":s}; H=lambda s:{"hex":s}; P=lambda n:{"pattern":n}

# RFC 6455 §5.7 examples
fv("a single-frame unmasked text message","5.7",[hx("810548656c6c6f")],[ex(1,T("Hello"))])
fv("a fragmented unmasked text message","5.7",[hx("010348656c"),hx("80026c6f")],[ex(1,T("Hel"),False),ex(0,T("lo"))])
fv("an unmasked ping is answered by the masked pong of the example","5.7",[hx("890548656c6c6f")],[],sentHex="8a8537fa213d7f9f4d5158")
fv("256 bytes binary in a single unmasked frame (16-bit length)","5.7",[hx("827e0100"),{"frame":None}],[ex(2,P(256))])
F[-1]["input"]=[fr(2,P(256))]
fv("64 KiB binary in a single unmasked frame (64-bit length)","5.7",[fr(2,P(65536))],[ex(2,P(65536))])
F.append({"name":"the 64-bit length header of the 64 KiB example, byte for byte","rfc":"5.7","input":[hx("827f0000000000010000"),{"pattern":0}],"expect":{"frames":[]}})
F[-1]["input"]=[hx("827f000000000001000007")]; F[-1]["expect"]["frames"]=[{"opcode":2,"fin":True,"length":65536,"payload":H("07"),"complete":False}]
# lengths
for n in (0,1,125,126,127,65535,65536,65537):
    fv(f"a binary frame of {n} bytes","5.2",[fr(2,P(n))],[ex(2,P(n))])
fv("an empty text frame","5.6",[hx("8100")],[ex(1,T(""))])
fv("a length above 2^32 streams through (the input ends mid-frame)","5.2",[hx("827f0000000100000005"),hx("00010203040506070809")],[{"opcode":2,"fin":True,"length":4294967301,"payload":H("00010203040506070809"),"complete":False}])
fv("a length of 2^63-1 is accepted","5.2",[hx("827f7fffffffffffffff"),hx("aabb")],[{"opcode":2,"fin":True,"length":9223372036854775807,"payload":H("aabb"),"complete":False}])
fv("a length of 2^63 is refused","5.2",[hx("827f8000000000000000")],[],"LENGTH_TOO_LARGE",[close(1002)])
fv("a 16-bit length under 126 is not minimal","5.2",[hx("817e007d"+"41"*125)],[],"NON_MINIMAL_LENGTH",[close(1002)])
fv("a 64-bit length under 65536 is not minimal","5.2",[hx("827f000000000000ffff")],[],"NON_MINIMAL_LENGTH",[close(1002)])
fv("a 64-bit length of 126 is not minimal","5.2",[hx("827f000000000000007e")],[],"NON_MINIMAL_LENGTH",[close(1002)])
# reserved bits and opcodes
for bits,name in ((0x40,"RSV1"),(0x20,"RSV2"),(0x10,"RSV3"),(0x70,"RSV1-3")):
    fv(f"{name} set without an extension","5.2",[hx("%02x0548656c6c6f"%(0x81|bits))],[],"RSV_BITS",[close(1002)])
fv("RSV1 on a ping","5.2",[hx("c900")],[],"RSV_BITS",[close(1002)])
for op in (3,4,5,6,7,0xb,0xc,0xd,0xe,0xf):
    fv(f"reserved opcode {op}","5.2",[hx("%02x00"%(0x80|op))],[],"RESERVED_OPCODE",[close(1002)])
fv("a reserved opcode after a valid message","5.2",[hx("81026869"),hx("8300")],[ex(1,T("hi"))],"RESERVED_OPCODE",[close(1002)])
# fragmentation
fv("a continuation with no message to continue","5.4",[hx("80026c6f")],[],"UNEXPECTED_CONTINUATION",[close(1002)])
fv("a non-final continuation with no message to continue","5.4",[hx("00026c6f")],[],"UNEXPECTED_CONTINUATION",[close(1002)])
fv("a new text frame inside a fragmented message","5.4",[hx("010348656c"),hx("81026c6f")],[ex(1,T("Hel"),False)],"EXPECTED_CONTINUATION",[close(1002)])
fv("a new binary frame inside a fragmented text message","5.4",[hx("010348656c"),hx("02026c6f")],[ex(1,T("Hel"),False)],"EXPECTED_CONTINUATION",[close(1002)])
fv("a message in three fragments","5.4",[hx("0201aa"),hx("0001bb"),hx("8001cc")],[ex(2,H("aa"),False),ex(0,H("bb"),False),ex(0,H("cc"))])
fv("empty fragments","5.4",[hx("0100"),hx("0000"),hx("8000")],[ex(1,T(""),False),ex(0,T(""),False),ex(0,T(""))])
fv("a ping between fragments is answered","5.4",[hx("010348656c"),hx("8900"),hx("80026c6f")],[ex(1,T("Hel"),False),ex(0,T("lo"))],sent=[{"opcode":10,"payload":H("")}])
fv("a pong and a ping between fragments","5.4",[hx("010348656c"),hx("8a0178"),hx("89027879"),hx("80026c6f")],[ex(1,T("Hel"),False),ex(0,T("lo"))],sent=[{"opcode":10,"payload":H("7879")}])
# control frames
fv("a 125-byte ping gets a 125-byte pong","5.5",[fr(9,P(125))],[],sent=[{"opcode":10,"payload":P(125)}])
fv("a 126-byte ping is refused","5.5",[hx("897e007e"+"00"*126)],[],"CONTROL_TOO_LONG",[close(1002)])
fv("a ping claiming a 64-bit length is refused","5.5",[hx("897f0000000000010000")],[],"CONTROL_TOO_LONG",[close(1002)])
fv("a fragmented ping is refused","5.5",[hx("09026869")],[],"CONTROL_FRAGMENTED",[close(1002)])
fv("a fragmented close is refused","5.5",[hx("080203e8")],[],"CONTROL_FRAGMENTED",[close(1002)])
fv("an unsolicited pong is ignored","5.5.3",[hx("8a00"),hx("81026869")],[ex(1,T("hi"))],sent=[])
fv("with auto_pong off, a ping is delivered and not answered","5.5.2",[hx("89026869"),hx("81016f")],[ex(9,T("hi")),ex(1,T("o"))],sent=[],options={"autoPong":False})
fv("pings are answered with their payload, in order","5.5.2",[hx("89016f"),hx("81026869"),hx("89017a")],[ex(1,T("hi"))],sent=[{"opcode":10,"payload":T("o")},{"opcode":10,"payload":T("z")}])
# masking
fv("a masked frame from the server is refused","5.1",[hx("818537fa213d7f9f4d5158")],[],"MASKED_FRAME",[close(1002)])
fv("a masked empty ping from the server is refused","5.1",[hx("898037fa213d")],[],"MASKED_FRAME",[close(1002)])
# close
fv("a close with no payload is answered with an empty close","5.5.1",[hx("8800")],[],"CLOSED_BY_PEER",[{"opcode":8,"payload":H("")}])
fv("a close with a 1-byte payload is refused","5.5.1",[hx("880103")],[],"BAD_CLOSE_PAYLOAD",[close(1002)])
for code in (1000,1001,1002,1003,1007,1008,1009,1010,1011,1012,1013,1014,3000,3999,4000,4999):
    fv(f"close code {code} is valid and echoed","7.4.1",[hx("8802%04x"%code)],[],"CLOSED_BY_PEER",[close(code)])
for code in (0,999,1004,1005,1006,1015,1016,1100,2000,2999,5000,65535):
    fv(f"close code {code} is refused","7.4.1",[hx("8802%04x"%code)],[],"BAD_CLOSE_CODE",[close(1002)])
fv("a close with a UTF-8 reason","5.5.1",[hx("880803e8"+"e282ac627965")],[],"CLOSED_BY_PEER",[close(1000)])
fv("a close whose reason is not UTF-8 is refused with 1007","8.1",[hx("880403e8fffe")],[],"INVALID_UTF8",[close(1007)])
fv("a close whose reason ends mid-character is refused with 1007","8.1",[hx("880403e8e282")],[],"INVALID_UTF8",[close(1007)])
fv("a close with a 123-byte reason","5.5.1",[hx("887d03e8"+"61"*123)],[],"CLOSED_BY_PEER",[close(1000)])
fv("frames after a close are not processed","5.5.1",[hx("880203e8"),hx("81026869"),hx("ff")],[],"CLOSED_BY_PEER",[close(1000)])
fv("messages before a close are delivered first","7.1.2",[hx("81026869"),fr(2,P(300)),hx("880203e9")],[ex(1,T("hi")),ex(2,P(300))],"CLOSED_BY_PEER",[close(1001)])
# UTF-8
fv("valid UTF-8: Greek, 2- and 3-byte","8.1",[fr(1,T("κόσμε"))],[ex(1,T("κόσμε"))])
fv("valid UTF-8: 4-byte characters","8.1",[fr(1,T("𝄞 and 😀"))],[ex(1,T("𝄞 and 😀"))])
fv("valid UTF-8 split across fragments mid-character","8.1",[hx("0102e282"),hx("8001ac")],[ex(1,H("e282"),False),ex(0,H("ac"))])
fv("valid UTF-8 split across three fragments","8.1",[hx("0101f0"),hx("00029d84"),hx("80019e")],[ex(1,H("f0"),False),ex(0,H("9d84"),False),ex(0,H("9e"))])
for hexs,what in (("c080","an overlong NUL"),("eda080","a UTF-16 surrogate"),("f4908080","a code point above U+10FFFF"),("ff","the byte FF"),("80","a lone continuation byte"),("e0808f","an overlong 3-byte form"),("cebae1bdb9cf83cebcceb5eda080656469746564","a surrogate after valid text")):
    fv(f"invalid UTF-8: {what}","8.1",[hx("81%02x"%(len(hexs)//2)+hexs)],[],"INVALID_UTF8",[close(1007)])
fv("invalid UTF-8 fails before the rest of the frame arrives","8.1",[hx("8105"+"4865ff6c6f")],[],"INVALID_UTF8",[close(1007)])
fv("invalid UTF-8 in a later fragment","8.1",[hx("0101e2"),hx("800128")],[ex(1,H("e2"),False)],"INVALID_UTF8",[close(1007)])
fv("a text message ending mid-character","8.1",[hx("8102e282")],[],"INVALID_UTF8",[close(1007)])
fv("a fragmented text message ending mid-character","8.1",[hx("0102e282"),hx("8000")],[ex(1,H("e282"),False)],"INVALID_UTF8",[close(1007)])
fv("binary messages are not UTF-8 checked","8.1",[hx("8202fffe")],[ex(2,H("fffe"))])
# limits
fv("max_message_size: a longer frame fails with 1009","7.4.1",[hx("810548656c6c6f")],[],"MESSAGE_TOO_BIG",[close(1009)],options={"maxMessageSize":4})
fv("max_message_size counts all fragments","7.4.1",[hx("010348656c"),hx("80026c6f")],[ex(1,T("Hel"),False)],"MESSAGE_TOO_BIG",[close(1009)],options={"maxMessageSize":4})
fv("max_message_size: a message of exactly the limit passes","7.4.1",[hx("010348656c"),hx("80026c6f")],[ex(1,T("Hel"),False),ex(0,T("lo"))],options={"maxMessageSize":5})
# the end of the stream
fv("the stream ends without a close frame","7.1.5",[hx("81026869")],[ex(1,T("hi"))],"CONNECTION_LOST",eof=True)
fv("the stream ends mid-frame: the bytes that came are delivered","7.1.5",[hx("81054865")],[{"opcode":1,"fin":True,"length":5,"payload":T("He"),"complete":False}],"CONNECTION_LOST",eof=True)

# ---- handshake vectors
HS=[]
OK="HTTP/1.1 101 Switching Protocols\nUpgrade: websocket\nConnection: Upgrade\nSec-WebSocket-Accept: {accept}\n"
def hv(name, rfc, response, open_, error=None, **kw):
    v={"name":name,"rfc":rfc,"response":response,"expect":{"open":open_}}
    if error: v["expect"]["error"]="WEBSOCK_ERR_"+error
    for k in ("httpStatus","subprotocol","frames","request"):
        if k in kw: v["expect"][k]=kw.pop(k)
    v.update(kw); HS.append(v)
hv("the RFC 6455 example: request and Accept byte for byte","1.3",
   "HTTP/1.1 101 Switching Protocols\nUpgrade: websocket\nConnection: Upgrade\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\n\n",True,
   request="GET /chat HTTP/1.1\nHost: server.example.com\nUpgrade: websocket\nConnection: Upgrade\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\nSec-WebSocket-Version: 13\nOrigin: http://example.com\n\n")
hv("subprotocols are offered in order","4.1",OK+"\n",True,subprotocols=["chat","superchat"],
   request="GET /chat HTTP/1.1\nHost: server.example.com\nUpgrade: websocket\nConnection: Upgrade\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\nSec-WebSocket-Version: 13\nSec-WebSocket-Protocol: chat, superchat\nOrigin: http://example.com\n\n")
hv("header names and the Upgrade value are case-insensitive","4.1","HTTP/1.1 101 OK\nupgrade: WebSocket\nCONNECTION: keep-alive, upgrade\nsec-websocket-accept: {accept}\nX-Other: 1\n\n",True)
hv("a status line with no reason phrase","4.1","HTTP/1.1 101\nUpgrade: websocket\nConnection: Upgrade\nSec-WebSocket-Accept: {accept}\n\n",True)
hv("bare LF line ends are accepted","4.1",OK+"\n",True,rawLf=True)
hv("the chosen subprotocol is reported","4.1",OK+"Sec-WebSocket-Protocol: superchat\n\n",True,subprotocols=["chat","superchat"],subprotocol="superchat")
hv("no subprotocol chosen from those offered","4.1",OK+"\n",True,subprotocols=["chat"],subprotocol="")
hv("a subprotocol that was not offered","4.1",OK+"Sec-WebSocket-Protocol: other\n\n",False,"BAD_SUBPROTOCOL",subprotocols=["chat"])
hv("a subprotocol when none was offered","4.1",OK+"Sec-WebSocket-Protocol: chat\n\n",False,"BAD_SUBPROTOCOL")
hv("two subprotocols chosen","4.1",OK+"Sec-WebSocket-Protocol: chat, superchat\n\n",False,"BAD_SUBPROTOCOL",subprotocols=["chat","superchat"])
hv("a wrong Sec-WebSocket-Accept","4.1","HTTP/1.1 101 Switching Protocols\nUpgrade: websocket\nConnection: Upgrade\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\n\n",False,"BAD_ACCEPT",nonce="000102030405060708090a0b0c0d0e0f")
hv("a missing Sec-WebSocket-Accept","4.1","HTTP/1.1 101 Switching Protocols\nUpgrade: websocket\nConnection: Upgrade\n\n",False,"BAD_ACCEPT")
hv("two Sec-WebSocket-Accept headers","4.1",OK+"Sec-WebSocket-Accept: {accept}\n\n",False,"BAD_ACCEPT")
hv("a missing Upgrade","4.1","HTTP/1.1 101 Switching Protocols\nConnection: Upgrade\nSec-WebSocket-Accept: {accept}\n\n",False,"BAD_UPGRADE")
hv("an Upgrade that is not websocket","4.1","HTTP/1.1 101 Switching Protocols\nUpgrade: h2c\nConnection: Upgrade\nSec-WebSocket-Accept: {accept}\n\n",False,"BAD_UPGRADE")
hv("a missing Connection","4.1","HTTP/1.1 101 Switching Protocols\nUpgrade: websocket\nSec-WebSocket-Accept: {accept}\n\n",False,"BAD_CONNECTION")
hv("a Connection without Upgrade","4.1","HTTP/1.1 101 Switching Protocols\nUpgrade: websocket\nConnection: keep-alive\nSec-WebSocket-Accept: {accept}\n\n",False,"BAD_CONNECTION")
hv("an extension that was not offered","4.1",OK+"Sec-WebSocket-Extensions: permessage-deflate\n\n",False,"BAD_EXTENSION")
for st in (200,204,301,400,403,404,426,500):
    hv(f"status {st} is an error that carries the status","4.1",f"HTTP/1.1 {st} Whatever\nContent-Length: 0\n\n",False,"HTTP_STATUS",httpStatus=st)
hv("HTTP/1.0 is not a WebSocket response","4.1","HTTP/1.0 101 Switching Protocols\nUpgrade: websocket\nConnection: Upgrade\nSec-WebSocket-Accept: {accept}\n\n",False,"BAD_RESPONSE")
hv("a response that is not HTTP","4.1","SSH-2.0-OpenSSH_9.2\n\n",False,"BAD_RESPONSE")
hv("a header line without a colon","4.1","HTTP/1.1 101 Switching Protocols\nUpgrade websocket\n\n",False,"BAD_RESPONSE")
hv("a folded header line","4.1","HTTP/1.1 101 Switching Protocols\nUpgrade: websocket\n  continued\n\n",False,"BAD_RESPONSE")
hv("headers over 8 KiB","4.1",OK+"X-Big: "+"a"*8200+"\n\n",False,"RESPONSE_TOO_LARGE")
hv("headers of just under 8 KiB pass","4.1",OK+"X-Big: "+"a"*7900+"\n\n",True)
hv("frames in the same segment as the 101 are delivered","4.1",OK+"\n",True,after=[{"frame":{"opcode":1,"payload":{"text":"first"}}},{"frame":{"opcode":2,"payload":{"pattern":300}}}],frames=[ex(1,T("first")),ex(2,P(300))])
# RFC 9110 §15.2: interim 1xx responses before the final one are parsed and skipped (101 is the final one here).
hv("a 100 Continue before the 101 is skipped (RFC 9110 §15.2)","4.1","HTTP/1.1 100 Continue\n\n"+OK+"\n",True)
hv("several interim responses, with headers, before the 101 are skipped","4.1","HTTP/1.1 100 Continue\n\nHTTP/1.1 102 Processing\n\nHTTP/1.1 103 Early Hints\nLink: </style.css>; rel=preload\n\n"+OK+"Sec-WebSocket-Protocol: chat\n\n",True,subprotocols=["chat"],subprotocol="chat")
hv("frames right behind a 101 that followed a 100 are delivered","4.1","HTTP/1.1 100 Continue\n\n"+OK+"\n",True,after=[{"frame":{"opcode":1,"payload":{"text":"after 100"}}}],frames=[ex(1,T("after 100"))])
hv("a 100 Continue and then a 403: the final status is reported","4.1","HTTP/1.1 100 Continue\n\nHTTP/1.1 403 Forbidden\nContent-Length: 0\n\n",False,"HTTP_STATUS",httpStatus=403)
hv("a 100 Continue and then the end of the stream","4.1","HTTP/1.1 100 Continue\n\n",False,"HANDSHAKE_EOF",eof=True)
hv("interim responses count toward the 8 KiB head limit","4.1","HTTP/1.1 100 Continue\nX-Big: "+"a"*4100+"\n\nHTTP/1.1 100 Continue\nX-Big: "+"a"*4100+"\n\n"+OK+"\n",False,"RESPONSE_TOO_LARGE")
hv("the server closes TCP during the handshake","4.1","HTTP/1.1 101 Switching Protocols\nUpgrade: websocket\n",False,"HANDSHAKE_EOF",eof=True)

# ---- send vectors
S=[]
def sv(name, rfc, sends, sentHex=None, sent=None):
    v={"name":name,"rfc":rfc,"sends":sends,"expect":{}}
    if sentHex: v["expect"]["sentHex"]=sentHex
    if sent: v["expect"]["sent"]=sent
    S.append(v)
sv("a single-frame masked text message, byte for byte","5.7",[{"opcode":1,"payload":T("Hello")}],"818537fa213d7f9f4d5158")
sv("the same message from a string","5.7",[{"opcode":1,"payload":T("Hello"),"asString":True}],"818537fa213d7f9f4d5158")
for n in (0,1,125,126,127,65535,65536,70000):
    sv(f"a {n}-byte binary frame","5.2",[{"opcode":2,"payload":P(n)}],sent=[{"opcode":2,"fin":True,"payload":P(n)}])
sv("the 16-bit length header, byte for byte","5.2",[{"opcode":2,"payload":H("00"*126)}],"82fe007e37fa213d"+("37fa213d"*32)[:252])
sv("the 64-bit length header begins 82ff0000000000010000","5.2",[{"opcode":2,"payload":P(65536)}],sent=[{"opcode":2,"fin":True,"payload":P(65536)}])
sv("a fragmented text message","5.4",[{"opcode":1,"fin":False,"payload":T("Hel")},{"opcode":0,"payload":T("lo")}],sent=[{"opcode":1,"fin":False,"payload":T("Hel")},{"opcode":0,"fin":True,"payload":T("lo")}])
mixed="€𝄞aé"*300
sv("a long string of mixed UTF-8 widths, encoded and masked chunk by chunk","5.6",[{"opcode":1,"payload":T(mixed),"asString":True}],sent=[{"opcode":1,"fin":True,"payload":T(mixed)}])
sv("a string with a lone surrogate is sent as U+FFFD","5.6",[{"opcode":1,"payload":T("a\ud800b"),"asString":True}],sent=[{"opcode":1,"fin":True,"payload":H("61efbfbd62")}])

# ---- the send rules (the core refuses what the peer would fail us for) and the send-side order
def sent_(op, payload, fin=True): return {"opcode":op,"fin":fin,"payload":payload}
def sv2(name, rfc, sends, sent=None, joined=None, options=None, txSizes=None, drainAtEnd=False):
    v={"name":name,"rfc":rfc,"sends":sends,"expect":{}}
    if sent is not None: v["expect"]["sent"]=sent
    if joined: v["expect"]["joined"]=joined
    if options: v["options"]=options
    if txSizes: v["txSizes"]=txSizes
    if drainAtEnd: v["drainAtEnd"]=True
    S.append(v)
sv2("a continuation with no message started is refused","5.4",[{"opcode":0,"payload":T("x"),"refused":"WEBSOCK_ERR_INVALID_ARG"}],sent=[])
sv2("a new message inside a fragmented one is refused, and the fragmented one goes on","5.4",
    [{"opcode":1,"fin":False,"payload":T("Hel")},{"opcode":2,"payload":H("00"),"refused":"WEBSOCK_ERR_INVALID_ARG"},{"opcode":0,"payload":T("lo")}],
    sent=[sent_(1,T("Hel"),False),sent_(0,T("lo"))])
sv2("text bytes that are not UTF-8 are refused","8.1",[{"opcode":1,"payload":H("c328"),"refused":"WEBSOCK_ERR_INVALID_ARG"}],sent=[])
sv2("a character may span fragments, but a message may not end inside one","8.1",
    [{"opcode":1,"fin":False,"payload":H("e282")},{"opcode":0,"payload":H(""),"refused":"WEBSOCK_ERR_INVALID_ARG"},{"opcode":0,"payload":H("ac")}],
    sent=[sent_(1,H("e282"),False),sent_(0,H("ac"))])
sv2("a ping of 126 bytes is refused; one of 125 goes out","5.5",[{"ping":P(126),"refused":"WEBSOCK_ERR_INVALID_ARG"},{"ping":P(125)}],sent=[sent_(9,P(125))])
sv2("a close follows every message accepted before it, and nothing follows the close","5.5.1",
    [{"opcode":1,"payload":T("one")},{"opcode":2,"payload":P(300)},{"opcode":1,"payload":T("three")},{"close":1000},{"opcode":1,"payload":T("late"),"refused":"WEBSOCK_ERR_NOT_OPEN"},{"ping":H(""),"refused":"WEBSOCK_ERR_NOT_OPEN"}],
    sent=[sent_(1,T("one")),sent_(2,P(300)),sent_(1,T("three")),sent_(8,H("03e8"))],drainAtEnd=True)
sv2("a ping between two messages goes out at the frame boundary","5.4",
    [{"opcode":2,"payload":P(400)},{"writeOnce":True},{"ping":T("p")},{"opcode":2,"payload":P(10)}],
    sent=[sent_(2,P(400)),sent_(9,T("p")),sent_(2,P(10))],txSizes=[256],drainAtEnd=True)
sv2("with fragment_size, a ping goes out between the fragments of a long message","5.4",
    [{"opcode":2,"payload":P(1000)},{"writeOnce":True},{"ping":T("p")}],
    sent=[sent_(2,{"hex":bytes((i*31+7)&255 for i in range(300)).hex()},False),sent_(9,T("p")),
          sent_(0,{"hex":bytes((i*31+7)&255 for i in range(300,600)).hex()},False),
          sent_(0,{"hex":bytes((i*31+7)&255 for i in range(600,900)).hex()},False),
          sent_(0,{"hex":bytes((i*31+7)&255 for i in range(900,1000)).hex()})],
    options={"fragmentSize":300},txSizes=[256],drainAtEnd=True)
sv2("with fragment_size, a string's characters stay whole across the frames it is cut into","5.4",
    [{"opcode":1,"payload":T(mixed),"asString":True}],joined={"opcode":1,"payload":T(mixed),"frames":-(-len(mixed.encode("utf-8"))//97)},options={"fragmentSize":97})
sv2("every ping gets its pong while the tx buffer has room","5.5.2",
    [{"receive":"".join("8901%02x"%(0x30+i) for i in range(10))}],sent=[sent_(10,T(str(i))) for i in range(10)],drainAtEnd=True)
sv2("pings that find the tx buffer full are answered with the latest only","5.5.3",
    [{"receive":"897d"+("61"*125)+"897d"+("62"*125)+"897d"+("63"*125)}],
    sent=[sent_(10,H("61"*125)),sent_(10,H("63"*125))],txSizes=[256],drainAtEnd=True)
json.dump({"frames":F,"handshakes":HS,"sends":S},open("test/vectors/vectors.json","w"),indent=1,ensure_ascii=True)
print(len(F),len(HS),len(S))
