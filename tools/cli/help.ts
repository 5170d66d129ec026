// The --help text: options, what happens when stdin ends, examples, exit codes.

export const HELP = `Usage: websock [options] <ws://[user:password@]host[:port]/path | wss://...>
       websock -l [HOST:]PORT [options]

A WebSocket netcat. Each line of stdin is sent as a text message; each message
received is printed on stdout (text as a line, binary as hex). Pings are answered.
On a terminal, "> " prompts for a line to send and "< " marks what arrived;
/ping [text], /pong [text] and /close [code [reason]] send control frames
(//text sends "/text").

Sending:
  -d, --data TEXT          send TEXT as a message before stdin (repeatable: one message each)
      --binary             send binary messages instead of text
      --no-split           send all of stdin as one message, when it ends
                           (lines: a line ends at \\n, a \\r before it is dropped)
Receiving:
  -n, --count N            exit after N messages received
                           (0: right after the handshake and the -d messages; stdin is not read)
      --raw                write binary messages as raw bytes, not hex (nothing between messages)
  -w, --wait SECS          after stdin ends, wait up to SECS (default 2) for the replies:
                           as many messages received as were sent; 0: close at once
  -q, --quit-after SECS    after stdin ends, keep receiving for SECS, then close
                           (negative: until the server closes, or -n is reached)
Connection:
  -H, --header "Key: value"  add a handshake header (repeatable)
  -o, --origin ORIGIN      send Origin: ORIGIN
      --auth USER:PASSWORD HTTP Basic authentication (the same as user:password@ in the URL);
                           not sent on to another host by -L
  -x, --proxy URL          tunnel through the HTTP proxy http://[user:password@]host[:port]
                           with CONNECT (port default 1080; "" for none). Without it, as
                           curl: http_proxy for ws://, https_proxy or HTTPS_PROXY for
                           wss://, then all_proxy or ALL_PROXY (HTTP_PROXY is not read)
      --noproxy HOSTS      comma-separated hosts (and their subdomains) reached directly,
                           "*" for all; without it, no_proxy or NO_PROXY
  -L, --location           follow the handshake's redirects (301/302/303/307/308), at most
                           --max-redirs (default 10, at most 20); never wss:// to ws://
      --max-redirs N       how many redirects -L follows
      --subprotocol NAME   offer a subprotocol (repeatable, most preferred first)
      --timeout SECS       time allowed for connect + TLS + handshake (default 10)
      --ping-interval SECS ping the server every SECS (default: never)
      --pong-timeout SECS  fail when a ping's pong takes longer than SECS (default 10)
      --close-timeout SECS wait up to SECS for the server's answer to our close
                           (default 5; no answer in time: exit 8)
      --reconnect          connect again after a drop that can heal (server restart,
                           reset, 503 ...): a random 0-5 s first, then 1 s doubling
                           to 60 s (longer if Retry-After asks), until Ctrl-C;
                           "reconnected" is said on stderr. With --proxy and -L each
                           attempt tunnels again and starts from the URL given
TLS (wss:// only):
      --cacert FILE        trust the CA certificate(s) in this PEM file instead of the
                           system store (repeatable)
      --cert FILE          client certificate (PEM), for mutual TLS; with --key
      --key FILE           the client certificate's private key (PEM)
      --servername NAME    the name sent in SNI and verified in the certificate
                           (default: the URL's host)
      --pin-sha256 BASE64  accept only a server whose public key (SubjectPublicKeyInfo) has
                           this SHA-256, base64 (repeatable; "sha256//" prefix allowed)
  -k, --insecure           do not verify the server's certificate (pins still apply)
Output:
      --show-headers       print the 101 response (status line, headers, empty line) on
                           stdout before any message
  -P, --show-ping-pong     print the pings received and the pongs sent on stdout
  -v, --verbose            log frames on stderr ("<" received, ">" sent; opcode, payload
                           length, fin): the data frames, the pings received and the
                           pongs sent, /ping and /pong, the close frames with their code
                           and reason; and "*" lines for connection events. Not logged:
                           the pings of --ping-interval and the pongs the server sends
                           (websock handles them itself)
  -V, --version            print the version
  -h, --help               this help
Serving:
  -l, --listen [HOST:]PORT serve WebSocket on HOST (default 127.0.0.1) and PORT: each
                           line of stdin goes to every client connected, each client's
                           messages to stdout; until Ctrl-C, or -n N messages in all

When stdin ends, what is left of it is sent, websock waits for the replies (one
message received per message sent, at most -w seconds), then closes normally
(1000); -n N waits for N messages instead, -q SECS receives for SECS.
Ctrl-C closes normally too (exit 130).

Examples:
  echo hello | websock ws://127.0.0.1:8080/echo
      send one line, print the reply, close
  websock -H "Authorization: Bearer $TOKEN" --subprotocol chat wss://example.com/chat
      interactive: type lines, read replies; Ctrl-D closes
  websock -n 0 --show-headers wss://example.com/
      only check the handshake and print the 101 response
  websock --cacert ca.pem -d '{"op":"subscribe"}' -q -1 wss://10.0.0.2:8443/feed </dev/null
      subscribe, then print messages until the server closes
  websock --binary --no-split --raw -n 1 ws://host/upload <file.bin >reply.bin
      send a file as one binary message, save the binary reply

Exit codes:
    0  normal close (by either side; the server's close code 1000, 1001 or none)
    1  other errors: stdin, stdout, transport I/O
    2  usage: a bad option or argument, or a --cacert/--cert/--key file that is unreadable
    3  DNS or TCP connect failure; the proxy refused the tunnel (407: its credentials)
    4  TLS failure (untrusted CA, name mismatch, expired, pin mismatch, client certificate...)
    5  handshake failure: an HTTP status other than 101, or an invalid upgrade response;
       a redirect -L cannot follow (too many, wss:// to ws://)
    6  protocol error: the server broke RFC 6455 (websock closed with 1002/1007)
    7  the server closed with another code, or dropped TCP without a close frame (1006)
    8  timeout: --timeout, --pong-timeout, or --close-timeout (the server did not
       answer our close)
  130  interrupted (Ctrl-C)
Errors are one line on stderr: "websock: <why>"; a refused handshake adds the
server's response (status, headers, the start of the body) under it.
`;
