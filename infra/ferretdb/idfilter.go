package main

// FerretDB v1's SQLite backend turns a filter into SQL only when it is exactly `{_id: <string or
// ObjectId>}`; any other filter scans and decodes the whole collection in Go. A conditional update
// such as `{_id: "T1", ownerId: null}` therefore costs ~0.1 ms per document in the collection
// (~100 ms at 1k tickets, ~750 ms at 10k), on Steward's hot path.
//
// Conditional writes already run under writeSerializer's exclusive lock, so they can be split
// without losing atomicity: first an aggregate whose leading `$match: {_id}` is pushed down and whose
// second `$match` applies the whole original filter to that one document; then the original command
// with its filter narrowed to `{_id}` when the document matched, or to an _id no document has when it
// did not, so FerretDB itself still produces the reply. Anything unusual (upserts, positional `$`
// updates, arrayFilters, collation, hint, several statements) is forwarded unchanged.

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
	"go.mongodb.org/mongo-driver/x/bsonx/bsoncore"
)

// errKeepOriginal means the pre-check could not decide; the original request is forwarded instead.
var errKeepOriginal = errors.New("forwarding the original filter")

// noSuchID is a string _id that no Steward document has; a filter on it is pushed down and matches nothing.
const noSuchID = "steward-ferretdb: no document has this _id (filter did not match)"

// idFilterPlan is a single-document conditional write whose filter names a pushdown-able _id.
type idFilterPlan struct {
	db, coll string
	id       bson.RawValue
	filter   bson.Raw
	// rebuild returns the request with its filter replaced by `{_id: id}`.
	rebuild func(id bson.RawValue) ([]byte, error)
}

// planIDFilter returns nil when req is not a conditional write this optimization handles.
func planIDFilter(req []byte) *idFilterPlan {
	body, ok := onlyBody(req)
	if !ok {
		return nil
	}

	first, err := body.IndexErr(0)
	if err != nil {
		return nil
	}

	coll, ok := first.Value().StringValueOK()
	if !ok {
		return nil
	}

	db, ok := body.Lookup("$db").StringValueOK()
	if !ok {
		return nil
	}

	var filter bson.Raw
	var rebuild func(id bson.RawValue) ([]byte, error)

	switch first.Key() {
	case "update":
		updates, ok := body.Lookup("updates").ArrayOK()
		if !ok {
			return nil
		}

		stmts, err := updates.Values()
		if err != nil || len(stmts) != 1 {
			return nil
		}

		stmt, ok := stmts[0].DocumentOK()
		if !ok || !plainUpdate(stmt, "u") {
			return nil
		}

		if filter, ok = stmt.Lookup("q").DocumentOK(); !ok {
			return nil
		}

		rebuild = func(id bson.RawValue) ([]byte, error) {
			newStmt, err := withField(stmt, "q", idDoc(id))
			if err != nil {
				return nil, err
			}

			arr := bsoncore.BuildArray(nil, bsoncore.Value{Type: bsontype.EmbeddedDocument, Data: newStmt})
			newBody, err := withField(body, "updates", bsoncore.Value{Type: bsontype.Array, Data: arr})
			if err != nil {
				return nil, err
			}

			return withBody(req, newBody), nil
		}

	case "findAndModify", "findandmodify":
		if !plainUpdate(body, "update") {
			return nil
		}

		if filter, ok = body.Lookup("query").DocumentOK(); !ok {
			return nil
		}

		rebuild = func(id bson.RawValue) ([]byte, error) {
			newBody, err := withField(body, "query", idDoc(id))
			if err != nil {
				return nil, err
			}

			return withBody(req, newBody), nil
		}

	default:
		return nil
	}

	elems, err := filter.Elements()
	if err != nil || len(elems) < 2 { // {_id} alone is pushed down by FerretDB already
		return nil
	}

	id, err := filter.LookupErr("_id")
	if err != nil || (id.Type != bsontype.String && id.Type != bsontype.ObjectID) {
		return nil
	}

	return &idFilterPlan{db: db, coll: coll, id: id, filter: filter, rebuild: rebuild}
}

// plainUpdate reports whether a statement (or findAndModify body) has no option that narrowing the
// filter could change: no upsert (it would insert the filter's fields), no positional `$` path
// (it refers to the array element the filter matched), no arrayFilters, collation or hint.
func plainUpdate(doc bson.Raw, updateKey string) bool {
	if upsert, ok := doc.Lookup("upsert").BooleanOK(); ok && upsert {
		return false
	}

	for _, k := range []string{"arrayFilters", "collation", "hint", "let"} {
		if _, err := doc.LookupErr(k); err == nil {
			return false
		}
	}

	u, err := doc.LookupErr(updateKey)
	if err != nil {
		return true // findAndModify with remove: true
	}

	// A pipeline update is an array; FerretDB rejects those anyway, so leave them alone.
	return u.Type == bsontype.EmbeddedDocument && !bytes.Contains(u.Value, []byte(".$"))
}

// narrow runs the plan under the caller's write lock and returns the request to forward instead.
// Errors wrapping errKeepOriginal leave the connection usable; others mean it is broken.
func (p *idFilterPlan) narrow(backend net.Conn, fromBackend *bufio.Reader, reqID int32) ([]byte, error) {
	matched, err := p.matches(backend, fromBackend, reqID)
	if err != nil {
		return nil, err
	}

	id := p.id
	if !matched {
		id = bson.RawValue{Type: bsontype.String, Value: bsoncore.AppendString(nil, noSuchID)}
	}

	msg, err := p.rebuild(id)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", err, errKeepOriginal)
	}

	return msg, nil
}

// matches asks FerretDB whether the document with p.id satisfies the whole filter.
func (p *idFilterPlan) matches(backend net.Conn, fromBackend *bufio.Reader, reqID int32) (bool, error) {
	body, err := bson.Marshal(bson.D{
		{Key: "aggregate", Value: p.coll},
		{Key: "pipeline", Value: bson.A{
			bson.D{{Key: "$match", Value: bson.D{{Key: "_id", Value: p.id}}}},
			bson.D{{Key: "$match", Value: p.filter}},
			bson.D{{Key: "$limit", Value: int32(1)}},
			bson.D{{Key: "$project", Value: bson.D{{Key: "_id", Value: int32(1)}}}},
		}},
		{Key: "cursor", Value: bson.D{}},
		{Key: "$db", Value: p.db},
	})
	if err != nil {
		return false, fmt.Errorf("%w: %w", err, errKeepOriginal)
	}

	res, err := roundTrip(backend, fromBackend, newOpMsg(reqID, body))
	if err != nil {
		return false, err
	}

	resBody, ok := onlyBody(res)
	if !ok {
		return false, fmt.Errorf("unexpected aggregate reply: %w", errKeepOriginal)
	}

	if !isOK(resBody.Lookup("ok")) {
		return false, fmt.Errorf("aggregate failed: %s: %w", resBody.Lookup("errmsg"), errKeepOriginal)
	}

	batch, ok := resBody.Lookup("cursor", "firstBatch").ArrayOK()
	if !ok {
		return false, fmt.Errorf("aggregate reply without cursor.firstBatch: %w", errKeepOriginal)
	}

	docs, err := batch.Values()
	if err != nil {
		return false, fmt.Errorf("%w: %w", err, errKeepOriginal)
	}

	return len(docs) > 0, nil
}

// onlyBody returns the body of an OP_MSG made of one kind-0 section and no checksum.
func onlyBody(msg []byte) (bson.Raw, bool) {
	if len(msg) < msgHeaderLen+5+5 || binary.LittleEndian.Uint32(msg[12:16]) != opCodeMsg {
		return nil, false
	}

	if binary.LittleEndian.Uint32(msg[16:20])&1 != 0 || msg[20] != 0 {
		return nil, false
	}

	body := bson.Raw(msg[21:])
	if int(binary.LittleEndian.Uint32(body[:4])) != len(body) || body.Validate() != nil {
		return nil, false
	}

	return body, true
}

// withBody returns msg (an OP_MSG accepted by onlyBody) with another body, keeping ids and flags.
func withBody(msg []byte, body []byte) []byte {
	out := make([]byte, 0, 21+len(body))
	out = append(out, msg[:21]...)
	out = append(out, body...)
	binary.LittleEndian.PutUint32(out[0:4], uint32(len(out)))

	return out
}

func newOpMsg(reqID int32, body []byte) []byte {
	out := make([]byte, 21, 21+len(body))
	binary.LittleEndian.PutUint32(out[4:8], uint32(reqID))
	binary.LittleEndian.PutUint32(out[12:16], opCodeMsg)
	out = append(out, body...)
	binary.LittleEndian.PutUint32(out[0:4], uint32(len(out)))

	return out
}

func isOK(v bson.RawValue) bool {
	if f, ok := v.DoubleOK(); ok {
		return f == 1
	}

	if i, ok := v.AsInt64OK(); ok {
		return i == 1
	}

	return false
}

func idDoc(id bson.RawValue) bsoncore.Value {
	doc := bsoncore.BuildDocument(nil, bsoncore.AppendValueElement(nil, "_id", bsoncore.Value{Type: id.Type, Data: id.Value}))

	return bsoncore.Value{Type: bsontype.EmbeddedDocument, Data: doc}
}

// withField returns doc with the value of key replaced, other elements unchanged and in order.
func withField(doc bson.Raw, key string, val bsoncore.Value) (bson.Raw, error) {
	elems, err := bsoncore.Document(doc).Elements()
	if err != nil {
		return nil, err
	}

	idx, out := bsoncore.AppendDocumentStart(nil)
	for _, e := range elems {
		if e.Key() == key {
			out = bsoncore.AppendValueElement(out, key, val)
		} else {
			out = append(out, e...)
		}
	}

	out, err = bsoncore.AppendDocumentEnd(out, idx)

	return bson.Raw(out), err
}
