// A thin Go client for gradwire: a connection honouring TLS (GRADWIRE_CA, and GRADWIRE_CLIENT_CERT /
// GRADWIRE_CLIENT_KEY for mTLS) and a bearer token (GRADWIRE_TOKEN), float32 tensors to and from the
// wire's raw little-endian bytes, and errors carrying their status name and PyTorch exception type.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"fmt"
	"io/ioutil"
	"math"
	"os"
	"strings"
	"time"
	"unicode"

	pb "github.com/gradwire/gradwire/gen/go/gradwire/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

const sessionHeader = "gradwire-session-id"

// Client is one connection to a gradwire server.
type Client struct {
	conn  *grpc.ClientConn
	stub  pb.GradwireServiceClient
	token string
}

func transportCredentials() (grpc.DialOption, error) {
	caFile, certFile, keyFile := os.Getenv("GRADWIRE_CA"), os.Getenv("GRADWIRE_CLIENT_CERT"), os.Getenv("GRADWIRE_CLIENT_KEY")
	if caFile == "" && certFile == "" {
		return grpc.WithInsecure(), nil
	}
	config := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pem, err := ioutil.ReadFile(caFile)
		if err != nil {
			return nil, err
		}
		config.RootCAs = x509.NewCertPool()
		if !config.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s holds no PEM certificate", caFile)
		}
	}
	if certFile != "" {
		pair, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, err
		}
		config.Certificates = []tls.Certificate{pair}
	}
	return grpc.WithTransportCredentials(credentials.NewTLS(config)), nil
}

// Dial connects to address (host:port).
func Dial(address string) (*Client, error) {
	security, err := transportCredentials()
	if err != nil {
		return nil, err
	}
	conn, err := grpc.Dial(address, security)
	if err != nil {
		return nil, err
	}
	return &Client{conn: conn, stub: pb.NewGradwireServiceClient(conn), token: os.Getenv("GRADWIRE_TOKEN")}, nil
}

// Close closes the connection.
func (c *Client) Close() { c.conn.Close() }

// call returns a context carrying the token and, for session calls, the session id a proxy routes by.
func (c *Client) call(sessionID string) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	if c.token != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+c.token)
	}
	if sessionID != "" {
		ctx = metadata.AppendToOutgoingContext(ctx, sessionHeader, sessionID)
	}
	return ctx, cancel
}

// CallError is a failed call: the status name (FAILED_PRECONDITION), PyTorch's exception type, the message.
type CallError struct {
	Status, ErrorType, Message string
}

func (e *CallError) Error() string {
	if e.ErrorType == "" {
		return fmt.Sprintf("%s: %s", e.Status, e.Message)
	}
	return fmt.Sprintf("%s %s: %s", e.Status, e.ErrorType, e.Message)
}

// statusName spells a code as the proto does: FailedPrecondition -> FAILED_PRECONDITION.
func statusName(camel string) string {
	var out strings.Builder
	for i, r := range camel {
		if i > 0 && unicode.IsUpper(r) && unicode.IsLower(rune(camel[i-1])) {
			out.WriteByte('_')
		}
		out.WriteRune(unicode.ToUpper(r))
	}
	return out.String()
}

func describe(err error, trailer metadata.MD) error {
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	errorType := ""
	if values := trailer.Get("gradwire-error-type"); len(values) > 0 {
		errorType = values[0]
	}
	return &CallError{Status: statusName(st.Code().String()), ErrorType: errorType, Message: st.Message()}
}

// Float32Tensor encodes values (shape: their length) as the wire's raw little-endian bytes.
func Float32Tensor(values ...float32) *pb.Tensor {
	data := make([]byte, 4*len(values))
	for i, v := range values {
		binary.LittleEndian.PutUint32(data[4*i:], math.Float32bits(v))
	}
	return &pb.Tensor{Dtype: pb.DType_DTYPE_FLOAT32, Shape: []int64{int64(len(values))}, Data: data}
}

// Float32Values decodes a float32 tensor.
func Float32Values(t *pb.Tensor) ([]float32, error) {
	if t.GetDtype() != pb.DType_DTYPE_FLOAT32 || len(t.GetData())%4 != 0 {
		return nil, fmt.Errorf("expected float32 data, got %v", t.GetDtype())
	}
	values := make([]float32, len(t.GetData())/4)
	for i := range values {
		values[i] = math.Float32frombits(binary.LittleEndian.Uint32(t.GetData()[4*i:]))
	}
	return values, nil
}

// Graph-building shorthands.
func ref(id string) *pb.Operand      { return &pb.Operand{Operand: &pb.Operand_Ref{Ref: id}} }
func real(value float64) *pb.Operand { return &pb.Operand{Operand: &pb.Operand_Real{Real: value}} }
func indexAttr(i int64) map[string]*pb.AttrValue {
	item := &pb.IndexItem{Item: &pb.IndexItem_Integer{Integer: i}}
	return map[string]*pb.AttrValue{"index": {Value: &pb.AttrValue_Index{Index: &pb.Index{Items: []*pb.IndexItem{item}}}}}
}
