package etl

import "math/bits"

// hashPartitionSeed is PostgreSQL's HASH_PARTITION_SEED (partition.h): the
// seed of the extended hash functions when rows are routed to hash
// partitions.
const hashPartitionSeed = uint64(0x7A5B22367996DCFD)

// hashPartition returns the hash partition (remainder) PostgreSQL chooses for
// a row whose single bigint partition key is id, among n partitions of equal
// modulus. It ports compute_partition_hash_value (partbounds.c) over
// hashint8extended (hashfunc.c) and hash_uint32_extended (common/hashfn.c),
// so that the import can send each row straight to its partition's table.
// TestHashPartitionMatchesPostgres checks it against the server.
func hashPartition(id int64, n int) int {
	lo, hi := uint32(id), uint32(id>>32)
	if id >= 0 {
		lo ^= hi
	} else {
		lo ^= ^hi
	}
	h := hashUint32Extended(lo, hashPartitionSeed)
	// hash_combine64 with an initial row hash of 0.
	var row uint64
	row ^= h + 0x49a0f4dd15e5a8e3 + (row << 54) + (row >> 7)
	return int(row % uint64(n))
}

// hashUint32Extended is hash_uint32_extended: Bob Jenkins' lookup3 mix and
// final over one 32-bit word with a 64-bit seed.
func hashUint32Extended(k uint32, seed uint64) uint64 {
	a := uint32(0x9e3779b9) + 4 + 3923095
	b, c := a, a
	if seed != 0 {
		a += uint32(seed >> 32)
		b += uint32(seed)
		// mix(a, b, c)
		a -= c
		a ^= bits.RotateLeft32(c, 4)
		c += b
		b -= a
		b ^= bits.RotateLeft32(a, 6)
		a += c
		c -= b
		c ^= bits.RotateLeft32(b, 8)
		b += a
		a -= c
		a ^= bits.RotateLeft32(c, 16)
		c += b
		b -= a
		b ^= bits.RotateLeft32(a, 19)
		a += c
		c -= b
		c ^= bits.RotateLeft32(b, 4)
		b += a
	}
	a += k
	// final(a, b, c)
	c ^= b
	c -= bits.RotateLeft32(b, 14)
	a ^= c
	a -= bits.RotateLeft32(c, 11)
	b ^= a
	b -= bits.RotateLeft32(a, 25)
	c ^= b
	c -= bits.RotateLeft32(b, 16)
	a ^= c
	a -= bits.RotateLeft32(c, 4)
	b ^= a
	b -= bits.RotateLeft32(a, 14)
	c ^= b
	c -= bits.RotateLeft32(b, 24)
	return uint64(b)<<32 | uint64(c)
}
