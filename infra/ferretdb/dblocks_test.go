package main

// Per-database write locks: one database's writers exclude each other, two databases' writers do not,
// and a store-wide command excludes everyone. Also: the database is read from a command's body even
// when document sequences come first.

import (
	"encoding/binary"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
)

// acquiredWithin reports whether take() returns within d.
func acquiredWithin(d time.Duration, take func() func()) (bool, func()) {
	got := make(chan func(), 1)
	go func() { got <- take() }()
	select {
	case unlock := <-got:
		return true, unlock
	case <-time.After(d):
		return false, func() { (<-got)() }
	}
}

func TestWritersOfTwoDatabasesDoNotWaitForEachOther(t *testing.T) {
	var l dbLocks
	unlockA := l.lock("routing")
	ok, unlockB := acquiredWithin(time.Second, func() func() { return l.lock("intake") })
	if !ok {
		t.Fatal("a write to intake waited for a write to routing")
	}
	unlockB()
	unlockA()
}

func TestWritersOfOneDatabaseTakeTurns(t *testing.T) {
	var l dbLocks
	unlock := l.lock("routing")
	ok, second := acquiredWithin(100*time.Millisecond, func() func() { return l.lock("routing") })
	if ok {
		t.Fatal("two writes to routing held its lock at once")
	}
	unlock()
	second()
}

func TestStoreWideCommandsExcludeEveryDatabase(t *testing.T) {
	for _, db := range []string{"admin", ""} {
		var l dbLocks
		unlock := l.lock("routing")
		ok, wide := acquiredWithin(100*time.Millisecond, func() func() { return l.lock(db) })
		if ok {
			t.Fatalf("a command on %q ran beside a routing write", db)
		}
		unlock()
		wide()

		unlockWide := l.lock(db)
		ok, other := acquiredWithin(100*time.Millisecond, func() func() { return l.lock("intake") })
		if ok {
			t.Fatalf("an intake write ran beside a command on %q", db)
		}
		unlockWide()
		other()
	}
}

// opMsg builds an OP_MSG with optional document sequences (kind 1) before the body (kind 0).
func opMsg(t *testing.T, body bson.D, sequences int) []byte {
	t.Helper()
	raw, err := bson.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	msg := make([]byte, 20)
	binary.LittleEndian.PutUint32(msg[12:16], opCodeMsg)
	for i := 0; i < sequences; i++ {
		doc, _ := bson.Marshal(bson.D{{Key: "_id", Value: i}})
		section := append([]byte("documents\x00"), doc...)
		size := make([]byte, 4)
		binary.LittleEndian.PutUint32(size, uint32(4+len(section)))
		msg = append(msg, 1)
		msg = append(msg, size...)
		msg = append(msg, section...)
	}
	msg = append(msg, 0)
	msg = append(msg, raw...)
	binary.LittleEndian.PutUint32(msg[0:4], uint32(len(msg)))
	return msg
}

func TestCommandDatabase(t *testing.T) {
	insert := bson.D{{Key: "insert", Value: "routing_tickets"}, {Key: "$db", Value: "steward_routing"}}
	if got := commandDatabase(opMsg(t, insert, 0)); got != "steward_routing" {
		t.Fatalf("body only: got %q", got)
	}
	if got := commandDatabase(opMsg(t, insert, 2)); got != "steward_routing" {
		t.Fatalf("after document sequences: got %q", got)
	}
	if got := commandDatabase(opMsg(t, bson.D{{Key: "ping", Value: 1}}, 0)); got != "" {
		t.Fatalf("no $db: got %q", got)
	}
	if got := commandDatabase([]byte("not a message")); got != "" {
		t.Fatalf("garbage: got %q", got)
	}
}
