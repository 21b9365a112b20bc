package main

// Writes are serialised per database, not across the whole store. FerretDB's SQLite backend keeps
// each MongoDB database in its own SQLite file (data/<db>.sqlite) with its own connection pool and
// its own single writer, so a conditional write in one database can never race a write in another:
// the read-modify-write that writeSerializer makes atomic (serialize.go) touches one file only. One
// global lock made every service queue behind every other service's writes (issue 12); one lock per
// database keeps the atomicity and lets services with their own databases write side by side.
//
// A command whose database cannot be read, or that runs against "admin" (renameCollection across
// databases, user and server administration), takes every database's lock: it may span them.

import (
	"encoding/binary"
	"sync"

	"go.mongodb.org/mongo-driver/bson"
)

type dbLocks struct {
	all sync.RWMutex // read-held by a one-database write, write-held by a store-wide command

	mu  sync.Mutex
	dbs map[string]*sync.Mutex
}

// spansDatabases reports whether a command against db must exclude writes in every database.
func spansDatabases(db string) bool {
	return db == "" || db == "admin"
}

// lock takes the write lock for db and returns its release.
func (l *dbLocks) lock(db string) (unlock func()) {
	if spansDatabases(db) {
		l.all.Lock()
		return l.all.Unlock
	}

	l.all.RLock()
	m := l.of(db)
	m.Lock()

	return func() {
		m.Unlock()
		l.all.RUnlock()
	}
}

func (l *dbLocks) of(db string) *sync.Mutex {
	l.mu.Lock()
	defer l.mu.Unlock()

	if l.dbs == nil {
		l.dbs = make(map[string]*sync.Mutex)
	}

	m, ok := l.dbs[db]
	if !ok {
		// Kept for the process's life: a Steward store holds a handful of databases (one per service,
		// plus one per test run), and a lock someone may be waiting on must never be replaced.
		m = new(sync.Mutex)
		l.dbs[db] = m
	}

	return m
}

// commandDatabase is the `$db` of an OP_MSG command, or "" when it has none or cannot be read. The body
// (kind 0) section is found among document sequences (kind 1), which drivers may send for inserts.
func commandDatabase(msg []byte) string {
	if len(msg) < msgHeaderLen+4 || binary.LittleEndian.Uint32(msg[12:16]) != opCodeMsg {
		return ""
	}

	end := len(msg)
	if binary.LittleEndian.Uint32(msg[16:20])&1 != 0 { // checksumPresent
		end -= 4
	}

	for p := msgHeaderLen + 4; p < end; {
		kind := msg[p]
		p++

		if p+4 > end {
			return ""
		}

		size := int(int32(binary.LittleEndian.Uint32(msg[p : p+4])))
		if size < 5 || p+size > end {
			return ""
		}

		if kind == 0 {
			body := bson.Raw(msg[p : p+size])
			if body.Validate() != nil {
				return ""
			}

			db, _ := body.Lookup("$db").StringValueOK()

			return db
		}

		p += size
	}

	return ""
}
