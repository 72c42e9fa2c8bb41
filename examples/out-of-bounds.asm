# reads 4 bytes at offset 8 of a 4-byte memory
ldxw %r0, [%r1+8]
exit
