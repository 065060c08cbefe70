// The gradwire tutorial's two examples from Go, printing the gradients PyTorch gives. Build and run:
// examples/go/build.sh && examples/go/tutorial [host:port] (default: $GRADWIRE_ADDRESS, else
// 127.0.0.1:50051; TLS and a token from GRADWIRE_CA, GRADWIRE_CLIENT_CERT/KEY and GRADWIRE_TOKEN).
//
// Example 1, a session keeps the graph: a = [2, 3] (requires grad); b = a + 3; c = b * b * 3;
// out = c.mean(); out.backward(retain_graph=True) gives a.grad = [15, 18]; out.backward() again
// accumulates to [30, 36] and frees the graph, so a third backward fails as in PyTorch.
//
// Example 2, one Compute call with in-place writes: m = [2, 3] (requires grad); n = zeros(2);
// n[0] = m[0] ** 2; n[1] = m[1] ** 3; n.backward([1, 1]) gives m.grad = [4, 27].
package main

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"strings"

	pb "github.com/gradwire/gradwire/gen/go/gradwire/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

func format(values []float32) string {
	parts := make([]string, len(values))
	for i, v := range values {
		parts[i] = fmt.Sprint(v)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func gradOf(grads []*pb.NamedTensor, id string) ([]float32, error) {
	for _, named := range grads {
		if named.GetId() == id && !named.GetIsNone() {
			return Float32Values(named.GetTensor())
		}
	}
	return nil, fmt.Errorf("the response has no grad for %s", id)
}

func newSessionID() string {
	bytes := make([]byte, 16)
	if _, err := rand.Read(bytes); err != nil {
		panic(err)
	}
	return hex.EncodeToString(bytes)
}

func retainedSession(c *Client) error {
	sessionID := newSessionID()
	ctx, cancel := c.call(sessionID)
	defer cancel()
	_, err := c.stub.CreateSession(ctx, &pb.CreateSessionRequest{SessionId: sessionID, Graph: &pb.Graph{
		Leaves: []*pb.Leaf{{Id: "a", Source: &pb.Leaf_Value{Value: Float32Tensor(2, 3)}, RequiresGrad: true}},
		Nodes: []*pb.Node{
			{Id: "b", Op: "add", Inputs: []*pb.Operand{ref("a"), real(3)}},
			{Id: "bb", Op: "mul", Inputs: []*pb.Operand{ref("b"), ref("b")}},
			{Id: "c", Op: "mul", Inputs: []*pb.Operand{ref("bb"), real(3)}},
			{Id: "out", Op: "mean", Inputs: []*pb.Operand{ref("c")}},
		},
	}})
	if err != nil {
		return describe(err, nil)
	}
	defer c.stub.CloseSession(ctx, &pb.CloseSessionRequest{SessionId: sessionID})
	backward := func(retain bool) ([]float32, error) {
		var trailer metadata.MD
		response, err := c.stub.Backward(ctx, &pb.BackwardRequest{SessionId: sessionID,
			Roots: []*pb.Root{{Id: "out"}}, RetainGraph: &retain, ReturnGrads: []string{"a"}}, grpc.Trailer(&trailer))
		if err != nil {
			return nil, describe(err, trailer)
		}
		return gradOf(response.GetGrads(), "a")
	}
	for i, retain := range []bool{true, false} {
		grad, err := backward(retain)
		if err != nil {
			return err
		}
		fmt.Printf("example 1: a.grad after backward %d = %s\n", i+1, format(grad))
	}
	if _, err := backward(false); err != nil {
		callError, ok := err.(*CallError)
		if !ok {
			return err
		}
		fmt.Printf("example 1: backward 3 -> %s\n", callError)
		return nil
	}
	return fmt.Errorf("a backward through a freed graph succeeded")
}

func inPlaceCompute(c *Client) error {
	ctx, cancel := c.call("")
	defer cancel()
	var trailer metadata.MD
	response, err := c.stub.Compute(ctx, &pb.ComputeRequest{
		Graph: &pb.Graph{
			Leaves: []*pb.Leaf{
				{Id: "m", Source: &pb.Leaf_Value{Value: Float32Tensor(2, 3)}, RequiresGrad: true},
				{Id: "n", Source: &pb.Leaf_Value{Value: Float32Tensor(0, 0)}},
			},
			Nodes: []*pb.Node{
				{Id: "m0", Op: "getitem", Inputs: []*pb.Operand{ref("m")}, Attrs: indexAttr(0)},
				{Id: "m0_sq", Op: "pow", Inputs: []*pb.Operand{ref("m0"), real(2)}},
				{Id: "set0", Op: "setitem", Inputs: []*pb.Operand{ref("n"), ref("m0_sq")}, Attrs: indexAttr(0)},
				{Id: "m1", Op: "getitem", Inputs: []*pb.Operand{ref("m")}, Attrs: indexAttr(1)},
				{Id: "m1_cube", Op: "pow", Inputs: []*pb.Operand{ref("m1"), real(3)}},
				{Id: "set1", Op: "setitem", Inputs: []*pb.Operand{ref("n"), ref("m1_cube")}, Attrs: indexAttr(1)},
			},
		},
		Roots:       []*pb.Root{{Id: "n", Gradient: Float32Tensor(1, 1)}},
		ReturnGrads: []string{"m"},
	}, grpc.Trailer(&trailer))
	if err != nil {
		return describe(err, trailer)
	}
	grad, err := gradOf(response.GetGrads(), "m")
	if err != nil {
		return err
	}
	fmt.Printf("example 2: m.grad = %s\n", format(grad))
	return nil
}

func main() {
	address := os.Getenv("GRADWIRE_ADDRESS")
	if len(os.Args) > 1 {
		address = os.Args[1]
	}
	if address == "" {
		address = "127.0.0.1:50051"
	}
	client, err := Dial(address)
	if err == nil {
		defer client.Close()
		err = retainedSession(client)
		if err == nil {
			err = inPlaceCompute(client)
		}
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "error: %v\n", err)
		if client != nil {
			client.Close()
		}
		os.Exit(1)
	}
}
