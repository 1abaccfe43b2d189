;; SipHash-2-4 (Aumasson & Bernstein) over bytes in linear memory, with native 64-bit words.
;; The JavaScript SipHash24 (../siphash.ts) is the reference: both give the same 64 bits for any
;; key and message (test/unit/siphash-wasm.test.ts). Memory layout: bytes 0-7 the result (low
;; word, high word), the message from byte 16. `key` sets the key, `hash(length)` hashes the
;; message of `length` bytes and returns the result's low word (the high one is at byte 4).
(module
  (memory (export "memory") 1)
  (global $k0 (mut i64) (i64.const 0))
  (global $k1 (mut i64) (i64.const 0))

  (func $word (param $lo i32) (param $hi i32) (result i64)
    (i64.or
      (i64.extend_i32_u (local.get $lo))
      (i64.shl (i64.extend_i32_u (local.get $hi)) (i64.const 32))))

  (func (export "key") (param $k0l i32) (param $k0h i32) (param $k1l i32) (param $k1h i32)
    (global.set $k0 (call $word (local.get $k0l) (local.get $k0h)))
    (global.set $k1 (call $word (local.get $k1l) (local.get $k1h))))

  (func (export "hash") (param $length i32) (result i32)
    (local $v0 i64) (local $v1 i64) (local $v2 i64) (local $v3 i64)
    (local $m i64) (local $at i32) (local $whole i32) (local $rounds i32) (local $index i32)
    (local $result i64)
    (local.set $v0 (i64.xor (global.get $k0) (i64.const 0x736f6d6570736575)))
    (local.set $v1 (i64.xor (global.get $k1) (i64.const 0x646f72616e646f6d)))
    (local.set $v2 (i64.xor (global.get $k0) (i64.const 0x6c7967656e657261)))
    (local.set $v3 (i64.xor (global.get $k1) (i64.const 0x7465646279746573)))
    (local.set $at (i32.const 16))
    (local.set $whole (i32.add (i32.const 16) (i32.and (local.get $length) (i32.const -8))))
    ;; Every whole 8-byte word, then the last one (the remaining bytes and the length in its top
    ;; byte), then 0xff into v2 and four rounds: $rounds says which of the three this pass is.
    (block $done
      (loop $block
        (local.set $rounds (i32.const 2))
        (if (i32.lt_u (local.get $at) (local.get $whole))
          (then (local.set $m (i64.load (local.get $at))))
          (else
            (if (i32.eq (local.get $at) (local.get $whole))
              (then
                (local.set $m (i64.shl (i64.extend_i32_u (local.get $length)) (i64.const 56)))
                (local.set $index (i32.const 0))
                (block $tail_done
                  (loop $tail
                    (br_if $tail_done
                      (i32.ge_u (local.get $index) (i32.and (local.get $length) (i32.const 7))))
                    (local.set $m
                      (i64.or (local.get $m)
                        (i64.shl
                          (i64.load8_u (i32.add (local.get $whole) (local.get $index)))
                          (i64.extend_i32_u (i32.shl (local.get $index) (i32.const 3))))))
                    (local.set $index (i32.add (local.get $index) (i32.const 1)))
                    (br $tail))))
              (else
                (local.set $m (i64.const 0))
                (local.set $v2 (i64.xor (local.get $v2) (i64.const 0xff)))
                (local.set $rounds (i32.const 4))))))
        (local.set $v3 (i64.xor (local.get $v3) (local.get $m)))
        (loop $round
          (local.set $v0 (i64.add (local.get $v0) (local.get $v1)))
          (local.set $v1 (i64.xor (i64.rotl (local.get $v1) (i64.const 13)) (local.get $v0)))
          (local.set $v0 (i64.rotl (local.get $v0) (i64.const 32)))
          (local.set $v2 (i64.add (local.get $v2) (local.get $v3)))
          (local.set $v3 (i64.xor (i64.rotl (local.get $v3) (i64.const 16)) (local.get $v2)))
          (local.set $v0 (i64.add (local.get $v0) (local.get $v3)))
          (local.set $v3 (i64.xor (i64.rotl (local.get $v3) (i64.const 21)) (local.get $v0)))
          (local.set $v2 (i64.add (local.get $v2) (local.get $v1)))
          (local.set $v1 (i64.xor (i64.rotl (local.get $v1) (i64.const 17)) (local.get $v2)))
          (local.set $v2 (i64.rotl (local.get $v2) (i64.const 32)))
          (local.set $rounds (i32.sub (local.get $rounds) (i32.const 1)))
          (br_if $round (local.get $rounds)))
        (local.set $v0 (i64.xor (local.get $v0) (local.get $m)))
        (br_if $done (i32.gt_u (local.get $at) (local.get $whole)))
        (local.set $at (i32.add (local.get $at) (i32.const 8)))
        (br $block)))
    (local.set $result
      (i64.xor (i64.xor (local.get $v0) (local.get $v1)) (i64.xor (local.get $v2) (local.get $v3))))
    (i64.store (i32.const 0) (local.get $result))
    (i32.wrap_i64 (local.get $result))))
