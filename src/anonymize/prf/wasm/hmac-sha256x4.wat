;; HMAC-SHA256 of four short messages at once (RFC 2104 over FIPS 180-4), one message per
;; 32-bit lane of WebAssembly's 128-bit SIMD: the same instructions as one SHA-256, four results.
;; The JavaScript HmacSha256 (../hmac-sha256.ts) is the reference: both give the same MAC for any
;; key and message (test/unit/hmac-sha256-wasm.test.ts). Memory layout (bytes):
;;   0-255      K, the 64 round constants (little-endian i32)
;;   256-287    the key's inner pad compressed (8 words), 288-319 its outer pad compressed
;;   1024-2047  the message schedule W[0..63], one v128 a word (lane n: message n); the caller
;;              writes the four padded one-block messages as W[0..15] (each word's value in its lane)
;;   2048-2175  the result: the eight MAC words, one v128 each
;; `hmac4` computes the four MACs of the messages in W[0..15].
(module
  (memory (export "memory") 1)
  (data (i32.const 0) "\98\2f\8a\42\91\44\37\71\cf\fb\c0\b5\a5\db\b5\e9\5b\c2\56\39\f1\11\f1\59\a4\82\3f\92\d5\5e\1c\ab\98\aa\07\d8\01\5b\83\12\be\85\31\24\c3\7d\0c\55\74\5d\be\72\fe\b1\de\80\a7\06\dc\9b\74\f1\9b\c1\c1\69\9b\e4\86\47\be\ef\c6\9d\c1\0f\cc\a1\0c\24\6f\2c\e9\2d\aa\84\74\4a\dc\a9\b0\5c\da\88\f9\76\52\51\3e\98\6d\c6\31\a8\c8\27\03\b0\c7\7f\59\bf\f3\0b\e0\c6\47\91\a7\d5\51\63\ca\06\67\29\29\14\85\0a\b7\27\38\21\1b\2e\fc\6d\2c\4d\13\0d\38\53\54\73\0a\65\bb\0a\6a\76\2e\c9\c2\81\85\2c\72\92\a1\e8\bf\a2\4b\66\1a\a8\70\8b\4b\c2\a3\51\6c\c7\19\e8\92\d1\24\06\99\d6\85\35\0e\f4\70\a0\6a\10\16\c1\a4\19\08\6c\37\1e\4c\77\48\27\b5\bc\b0\34\b3\0c\1c\39\4a\aa\d8\4e\4f\ca\9c\5b\f3\6f\2e\68\ee\82\8f\74\6f\63\a5\78\14\78\c8\84\08\02\c7\8c\fa\ff\be\90\eb\6c\50\a4\f7\a3\f9\be\f2\78\71\c6")

  ;; One compression of the block W[0..15] into the state whose 8 words are at $state (the same
  ;; for every lane); the new state (one v128 a word) is stored at 2048.
  (func $compress (param $state i32)
    (local $a v128) (local $b v128) (local $c v128) (local $d v128)
    (local $e v128) (local $f v128) (local $g v128) (local $h v128)
    (local $x v128) (local $y v128) (local $t1 v128) (local $t2 v128) (local $i i32)
    ;; The schedule: W[16..63].
    (local.set $i (i32.const 1280))
    (loop $schedule
      (local.set $x (v128.load (i32.sub (local.get $i) (i32.const 240))))
      (local.set $y (v128.load (i32.sub (local.get $i) (i32.const 32))))
      (v128.store (local.get $i)
        (i32x4.add
          (i32x4.add (v128.load (i32.sub (local.get $i) (i32.const 256))) (v128.load (i32.sub (local.get $i) (i32.const 112))))
          (i32x4.add
            (v128.xor (v128.xor (v128.or (i32x4.shr_u (local.get $x) (i32.const 7)) (i32x4.shl (local.get $x) (i32.const 25))) (v128.or (i32x4.shr_u (local.get $x) (i32.const 18)) (i32x4.shl (local.get $x) (i32.const 14)))) (i32x4.shr_u (local.get $x) (i32.const 3)))
            (v128.xor (v128.xor (v128.or (i32x4.shr_u (local.get $y) (i32.const 17)) (i32x4.shl (local.get $y) (i32.const 15))) (v128.or (i32x4.shr_u (local.get $y) (i32.const 19)) (i32x4.shl (local.get $y) (i32.const 13)))) (i32x4.shr_u (local.get $y) (i32.const 10))))))
      (local.set $i (i32.add (local.get $i) (i32.const 16)))
      (br_if $schedule (i32.lt_u (local.get $i) (i32.const 2048))))
    (local.set $a (i32x4.splat (i32.load offset=0 (local.get $state))))
    (local.set $b (i32x4.splat (i32.load offset=4 (local.get $state))))
    (local.set $c (i32x4.splat (i32.load offset=8 (local.get $state))))
    (local.set $d (i32x4.splat (i32.load offset=12 (local.get $state))))
    (local.set $e (i32x4.splat (i32.load offset=16 (local.get $state))))
    (local.set $f (i32x4.splat (i32.load offset=20 (local.get $state))))
    (local.set $g (i32x4.splat (i32.load offset=24 (local.get $state))))
    (local.set $h (i32x4.splat (i32.load offset=28 (local.get $state))))
    (local.set $i (i32.const 0))
    (loop $round
      (local.set $t1
        (i32x4.add
          (i32x4.add (local.get $h)
            (v128.xor (v128.xor (v128.or (i32x4.shr_u (local.get $e) (i32.const 6)) (i32x4.shl (local.get $e) (i32.const 26))) (v128.or (i32x4.shr_u (local.get $e) (i32.const 11)) (i32x4.shl (local.get $e) (i32.const 21)))) (v128.or (i32x4.shr_u (local.get $e) (i32.const 25)) (i32x4.shl (local.get $e) (i32.const 7)))))
          (i32x4.add (v128.bitselect (local.get $f) (local.get $g) (local.get $e))
            (i32x4.add (i32x4.splat (i32.load (i32.shl (local.get $i) (i32.const 2))))
              (v128.load offset=1024 (i32.shl (local.get $i) (i32.const 4)))))))
      (local.set $t2
        (i32x4.add
          (v128.xor (v128.xor (v128.or (i32x4.shr_u (local.get $a) (i32.const 2)) (i32x4.shl (local.get $a) (i32.const 30))) (v128.or (i32x4.shr_u (local.get $a) (i32.const 13)) (i32x4.shl (local.get $a) (i32.const 19)))) (v128.or (i32x4.shr_u (local.get $a) (i32.const 22)) (i32x4.shl (local.get $a) (i32.const 10))))
          (v128.bitselect (local.get $c) (local.get $a) (v128.xor (local.get $a) (local.get $b)))))
      (local.set $h (local.get $g))
      (local.set $g (local.get $f))
      (local.set $f (local.get $e))
      (local.set $e (i32x4.add (local.get $d) (local.get $t1)))
      (local.set $d (local.get $c))
      (local.set $c (local.get $b))
      (local.set $b (local.get $a))
      (local.set $a (i32x4.add (local.get $t1) (local.get $t2)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $round (i32.lt_u (local.get $i) (i32.const 64))))
    (v128.store offset=2048 (i32.const 0) (i32x4.add (local.get $a) (i32x4.splat (i32.load offset=0 (local.get $state)))))
    (v128.store offset=2064 (i32.const 0) (i32x4.add (local.get $b) (i32x4.splat (i32.load offset=4 (local.get $state)))))
    (v128.store offset=2080 (i32.const 0) (i32x4.add (local.get $c) (i32x4.splat (i32.load offset=8 (local.get $state)))))
    (v128.store offset=2096 (i32.const 0) (i32x4.add (local.get $d) (i32x4.splat (i32.load offset=12 (local.get $state)))))
    (v128.store offset=2112 (i32.const 0) (i32x4.add (local.get $e) (i32x4.splat (i32.load offset=16 (local.get $state)))))
    (v128.store offset=2128 (i32.const 0) (i32x4.add (local.get $f) (i32x4.splat (i32.load offset=20 (local.get $state)))))
    (v128.store offset=2144 (i32.const 0) (i32x4.add (local.get $g) (i32x4.splat (i32.load offset=24 (local.get $state)))))
    (v128.store offset=2160 (i32.const 0) (i32x4.add (local.get $h) (i32x4.splat (i32.load offset=28 (local.get $state)))))
  )

  (func (export "hmac4")
    (local $i i32)
    ;; The inner hash of the key's inner pad and each message, then the outer: the outer pad and
    ;; the 32-byte inner digest, padded (0x80, zeros, the length in bits: 96 bytes).
    (call $compress (i32.const 256))
    (local.set $i (i32.const 0))
    (loop $copy
      (v128.store offset=1024 (local.get $i) (v128.load offset=2048 (local.get $i)))
      (local.set $i (i32.add (local.get $i) (i32.const 16)))
      (br_if $copy (i32.lt_u (local.get $i) (i32.const 128))))
    (v128.store offset=1152 (i32.const 0) (i32x4.splat (i32.const 0x80000000)))
    (v128.store offset=1168 (i32.const 0) (v128.const i64x2 0 0))
    (v128.store offset=1184 (i32.const 0) (v128.const i64x2 0 0))
    (v128.store offset=1200 (i32.const 0) (v128.const i64x2 0 0))
    (v128.store offset=1216 (i32.const 0) (v128.const i64x2 0 0))
    (v128.store offset=1232 (i32.const 0) (v128.const i64x2 0 0))
    (v128.store offset=1248 (i32.const 0) (v128.const i64x2 0 0))
    (v128.store offset=1264 (i32.const 0) (i32x4.splat (i32.const 768)))
    (call $compress (i32.const 288)))
)
