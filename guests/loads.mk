LOAD_conf-modes := 0x1000
LOAD_conf-exceptions := 0x10000
LOAD_conf-paging := 0x10000
LOAD_soft-syscall := 0x10000
LOAD_soft-smc := 0x1000
LOAD_soft-realint := 0x1000
LOAD_soft-pm32 := 0x10000
LOAD_soft-bench := 0xffff0000
