// Command steward-ferretdb runs FerretDB v1 (MongoDB wire protocol) over SQLite files in one directory,
// for Steward's local development and tests where neither Docker nor mongod is available.
//
// We embed the ferretdb package instead of `go install`ing FerretDB's own command: that command panics at
// start when built from the module proxy, because its generated build/version files are not in the module.
// In front of FerretDB sits a small wire-level relay that fixes what Steward cannot live without:
// atomic conditional updates (serialize.go), and _id lookups that do not scan whole collections
// (idfilter.go, idindex.go).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"syscall"

	"github.com/FerretDB/FerretDB/ferretdb"
)

// sqlitePragmas are passed to every SQLite connection FerretDB opens (one database file per MongoDB database).
// FerretDB already defaults to busy_timeout(10000) and journal_mode(wal), and modernc.org/sqlite is built with
// SQLITE_DEFAULT_WAL_SYNCHRONOUS=2 (full); we pin all three so that a library upgrade cannot quietly weaken
// durability. WAL + synchronous(full) fsyncs the WAL on every commit before FerretDB replies, so an
// acknowledged write survives a kill -9 of this process and also an OS crash or power loss
// (synchronous(normal) would only survive the former).
var sqlitePragmas = []string{
	"busy_timeout(10000)",
	"journal_mode(wal)",
	"synchronous(full)",
}

type options struct {
	listenAddr, dataDir, addrFile, logLevel, pprofAddr string
	serialize, narrow, idIndex                         bool
}

// FerretDB allocates several times a document's size for every command (SQLite JSON in, BSON out). At Go's
// default GOGC=100 the collector took about a quarter of its CPU: on updates and reads of 19 KB documents
// GOGC=400 cut FerretDB's CPU by 21 % (3,178 -> 2,518 ticks) for 90 MiB more peak RSS (173 -> 264 MiB).
// GOMEMLIMIT caps the heap whatever GOGC allows. Either environment variable, when set, wins.
const (
	defaultGCPercent   = 400
	defaultMemoryLimit = 512 << 20
)

func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}

	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
}

func main() {
	tuneGC()

	var o options
	flag.StringVar(&o.listenAddr, "listen-addr", "127.0.0.1:27017", "TCP address to listen on; port 0 picks a free port")
	flag.StringVar(&o.dataDir, "data-dir", "", "directory for the SQLite files (created if missing); required")
	flag.StringVar(&o.addrFile, "addr-file", "", "if set, the MongoDB URI is written to this file once the port is bound")
	flag.StringVar(&o.logLevel, "log-level", "info", "one of debug, info, warn, error")
	flag.BoolVar(&o.serialize, "serialize-writes", true, "run writes one at a time so conditional updates are atomic (serialize.go)")
	flag.BoolVar(&o.narrow, "narrow-id-filters", true, "with -serialize-writes, run conditional writes on {_id, ...} by _id (idfilter.go)")
	flag.StringVar(&o.pprofAddr, "pprof-addr", "", "if set, serve Go's net/http/pprof profiles on this address (diagnosis only)")
	flag.BoolVar(&o.idIndex, "fix-id-index", true, "with -serialize-writes, add the _id index FerretDB's queries can use (idindex.go)")
	flag.Parse()

	if err := run(o); err != nil {
		fmt.Fprintf(os.Stderr, "steward-ferretdb: %s\n", err)
		os.Exit(1)
	}
}

func run(o options) error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.logLevel)); err != nil {
		return fmt.Errorf("-log-level: %w", err)
	}

	logger := slog.New(newLazyHandler(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})))
	servePprof(o.pprofAddr, logger)

	if o.dataDir == "" {
		return errors.New("-data-dir is required")
	}

	dir, err := filepath.Abs(o.dataDir)
	if err != nil {
		return fmt.Errorf("-data-dir: %w", err)
	}

	// FerretDB puts the directory into SQLite URIs unescaped.
	if strings.ContainsAny(dir, "?#%") {
		return fmt.Errorf("-data-dir %q: must not contain '?', '#' or '%%'", dir)
	}

	if err = os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("-data-dir: %w", err)
	}

	sqliteURL := (&url.URL{
		Scheme:   "file",
		Opaque:   dir + "/",
		RawQuery: url.Values{"_pragma": sqlitePragmas}.Encode(),
	}).String()

	var ids *idIndexer
	if o.serialize && o.idIndex {
		// Before FerretDB opens the files: nothing else writes to them yet.
		ids = newIDIndexer(dir, sqlitePragmas, logger)
		ids.ensureAll()
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()

	// With serialize-writes, clients talk to our serializer on listenAddr and FerretDB itself listens on
	// a private loopback port.
	ferretAddr := o.listenAddr
	var front net.Listener
	if o.serialize {
		if front, err = net.Listen("tcp", o.listenAddr); err != nil {
			return err
		}
		defer front.Close()

		ferretAddr = "127.0.0.1:0"
	}

	f, err := ferretdb.New(&ferretdb.Config{
		Listener:  ferretdb.ListenerConfig{TCP: ferretAddr},
		Logger:    logger,
		Handler:   "sqlite",
		SQLiteURL: sqliteURL,
	})
	if err != nil {
		return err
	}

	// New has already bound FerretDB's port, so its URI (with the real port when 0 was asked for) is known.
	uri := f.MongoDBURI()

	var wg sync.WaitGroup
	if o.serialize {
		backend, err := url.Parse(uri)
		if err != nil {
			return err
		}

		s := &writeSerializer{backend: backend.Host, narrowIDFilters: o.narrow, ids: ids, l: logger}
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.serve(ctx, front)
		}()

		uri = (&url.URL{Scheme: "mongodb", Host: front.Addr().String(), Path: "/"}).String()
		logger.Info("serializing writes in front of ferretdb", slog.String("ferretdb", backend.Host))
	}

	logger.Info("steward-ferretdb listening", slog.String("uri", uri), slog.String("sqlite_url", sqliteURL))

	if o.addrFile != "" {
		if err = writeFileAtomic(o.addrFile, uri+"\n"); err != nil {
			return fmt.Errorf("-addr-file: %w", err)
		}
	}

	// Run returns after ctx is canceled (SIGTERM/SIGINT), once listeners, connections and SQLite are closed.
	err = f.Run(ctx)
	wg.Wait()

	if err != nil {
		return err
	}

	logger.Info("steward-ferretdb stopped")

	return nil
}

// writeFileAtomic writes through a temporary file and a rename, so a reader never sees a partial URI.
func writeFileAtomic(path, content string) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		return err
	}

	return os.Rename(tmp, path)
}
