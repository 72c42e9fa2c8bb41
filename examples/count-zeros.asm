# count the bytes of the memory that are zero
    mov %r0, 0
loop:
    jeq %r2, 0, done
    ldxb %r3, [%r1]
    jne %r3, 0, next
    add %r0, 1
next:
    add %r1, 1
    sub %r2, 1
    ja loop
done:
    exit
