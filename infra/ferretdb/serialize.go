package main

// FerretDB v1's SQLite backend runs update, findAndModify and delete as "query, then modify in Go,
// then write back by _id" without a transaction around the three steps
// (https://github.com/FerretDB/FerretDB/issues/3040). Two concurrent conditional updates can therefore
// both match: `{_id, ownerId: null}` claimed twice, `$inc` past a `{load: {$lt: cap}}` guard, lost
// increments. Steward's invariants rest on those updates being atomic, as they are in MongoDB.
//
// writeSerializer restores that by sitting in front of FerretDB on the wire: every command that is
// not known to be read-only waits for its database's exclusive lock (dblocks.go), is forwarded, and
// keeps the lock until FerretDB's reply (sent after the SQLite commit) has arrived. Reads pass without the lock and see
// committed data (SQLite WAL snapshots). SQLite allows one writer at a time anyway, so the lock costs
// little write throughput. While holding the lock, conditional writes on `{_id, ...}` are also made
// cheap (idfilter.go).

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
)

const (
	msgHeaderLen = 16
	maxMsgLen    = 48*1024*1024 + 16*1024 // MongoDB's maxMessageSizeBytes, plus slack
	opCodeMsg    = 2013
)

// readOnlyCommands may run concurrently with anything. Names are from FerretDB 1.24's command table;
// its aggregate has no $out/$merge stage, so aggregate is a read too.
var readOnlyCommands = map[string]bool{
	"aggregate": true, "buildInfo": true, "buildinfo": true, "collStats": true, "connectionStatus": true,
	"count": true, "currentOp": true, "dataSize": true, "dbStats": true, "dbstats": true, "distinct": true,
	"explain": true, "find": true, "getCmdLineOpts": true, "getFreeMonitoringStatus": true,
	"getLog": true, "getMore": true, "getParameter": true, "hello": true, "hostInfo": true, "isMaster": true,
	"ismaster": true, "killCursors": true, "listCollections": true, "listCommands": true, "listDatabases": true,
	"listIndexes": true, "logout": true, "ping": true, "saslContinue": true, "saslStart": true,
	"serverStatus": true, "whatsmyuri": true,
}

type writeSerializer struct {
	backend         string     // FerretDB's own listener, host:port
	narrowIDFilters bool       // see idfilter.go
	ids             *idIndexer // nil: leave FerretDB's tables as they are (see idindex.go)
	l               *slog.Logger
	locks           dbLocks // one write lock per database (dblocks.go)
}

// serve accepts clients on ln until ctx is canceled, then closes every client connection.
func (s *writeSerializer) serve(ctx context.Context, ln net.Listener) {
	var wg sync.WaitGroup
	conns := make(map[net.Conn]struct{})
	var mu sync.Mutex

	go func() {
		<-ctx.Done()
		_ = ln.Close()
		mu.Lock()
		for c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
	}()

	for {
		client, err := ln.Accept()
		if err != nil {
			if ctx.Err() == nil {
				s.l.Error("accept failed", slog.String("error", err.Error()))
			}
			break
		}

		mu.Lock()
		conns[client] = struct{}{}
		mu.Unlock()

		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				mu.Lock()
				delete(conns, client)
				mu.Unlock()
				_ = client.Close()
			}()

			if err := s.relay(client); err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				s.l.Debug("client connection ended", slog.String("remote", client.RemoteAddr().String()), slog.String("error", err.Error()))
			}
		}()
	}

	wg.Wait()
}

// relay forwards one client connection over its own FerretDB connection. FerretDB answers every
// message with exactly one reply, in order, so request and reply can be paired one to one.
func (s *writeSerializer) relay(client net.Conn) error {
	backend, err := net.Dial("tcp", s.backend)
	if err != nil {
		return fmt.Errorf("dial ferretdb: %w", err)
	}
	defer backend.Close()

	fromClient := bufio.NewReader(client)
	fromBackend := bufio.NewReader(backend)
	ownID := int32(1 << 30) // request ids for our own pre-check commands; replies are paired by order anyway

	for {
		req, err := readMessage(fromClient)
		if err != nil {
			return err
		}

		cmd := commandName(req)
		if cmd == "endSessions" {
			// FerretDB does not know endSessions (the driver sends it on close) and logs each refusal
			// as a warning with a full message dump; MongoDB answers ok, and there is nothing to end.
			// The driver usually sends it with moreToCome set: then no reply at all is expected.
			if binary.LittleEndian.Uint32(req[16:20])&2 == 0 {
				if _, err = client.Write(okReply(req)); err != nil {
					return err
				}
			}

			continue
		}

		if readOnlyCommands[cmd] {
			if err = s.forward(client, backend, fromBackend, req); err != nil {
				return err
			}

			continue
		}

		if cmd == "update" {
			if n := updateStatements(req); n > maxUpdateStatements {
				s.l.Warn("refusing an update FerretDB would never answer", slog.Int("statements", n))
				if binary.LittleEndian.Uint32(req[16:20])&2 == 0 { // moreToCome: the client expects no reply
					if _, err = client.Write(errorReply(req, 2, "BadValue", tooManyUpdates(n))); err != nil {
						return err
					}
				}

				continue
			}
		}

		unlock := s.locks.lock(commandDatabase(req))
		if plan := planIDFilter(req); plan != nil && s.narrowIDFilters {
			ownID++
			narrowed, err := plan.narrow(backend, fromBackend, ownID)
			switch {
			case err == nil:
				req = narrowed
			case errors.Is(err, errKeepOriginal):
				s.l.Debug("conditional write not narrowed", slog.String("error", err.Error()))
			default:
				unlock()
				return err
			}
		}
		res, err := roundTrip(backend, fromBackend, req)
		if err == nil && s.ids != nil {
			s.ids.afterWrite(req)
		}
		unlock()

		if err != nil {
			return err
		}

		if _, err = client.Write(res); err != nil {
			return err
		}
	}
}

func (s *writeSerializer) forward(client, backend net.Conn, fromBackend *bufio.Reader, req []byte) error {
	res, err := roundTrip(backend, fromBackend, req)
	if err != nil {
		return err
	}

	_, err = client.Write(res)

	return err
}

// okReply is an OP_MSG `{ok: 1.0}` answering req.
func okReply(req []byte) []byte {
	body := []byte{17, 0, 0, 0, 0x01, 'o', 'k', 0, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0} // {ok: 1.0}
	res := newOpMsg(0, body)
	copy(res[8:12], req[4:8]) // responseTo = the request's id

	return res
}

func roundTrip(backend net.Conn, fromBackend *bufio.Reader, req []byte) ([]byte, error) {
	if _, err := backend.Write(req); err != nil {
		return nil, err
	}

	return readMessage(fromBackend)
}

func readMessage(r *bufio.Reader) ([]byte, error) {
	var header [msgHeaderLen]byte
	if _, err := io.ReadFull(r, header[:]); err != nil {
		return nil, err
	}

	n := int(int32(binary.LittleEndian.Uint32(header[:4])))
	if n < msgHeaderLen || n > maxMsgLen {
		return nil, fmt.Errorf("invalid message length %d", n)
	}

	msg := make([]byte, n)
	copy(msg, header[:])

	if _, err := io.ReadFull(r, msg[msgHeaderLen:]); err != nil {
		return nil, err
	}

	return msg, nil
}

// commandName returns the first key of an OP_MSG's body document (the command name), or "" when
// the message is anything else or cannot be parsed; callers then take the exclusive path.
func commandName(msg []byte) string {
	if len(msg) < msgHeaderLen+4 || binary.LittleEndian.Uint32(msg[12:16]) != opCodeMsg {
		return ""
	}

	flags := binary.LittleEndian.Uint32(msg[16:20])
	end := len(msg)
	if flags&1 != 0 { // checksumPresent
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
			// BSON document: int32 length, then elements (type byte, cstring name, value).
			doc := msg[p : p+size]
			if doc[4] == 0 {
				return ""
			}

			for i := 5; i < len(doc); i++ {
				if doc[i] == 0 {
					return string(doc[5:i])
				}
			}

			return ""
		}

		p += size // kind 1: int32 size (including itself), identifier, documents
	}

	return ""
}
