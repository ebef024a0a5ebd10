// The etcd getting-started walkthrough through the Go clientv3, printing a transcript that does not
// depend on ids or timing, so the same program can be compared against etcd and vetcd.
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"go.etcd.io/etcd/clientv3"
)

func must(err error) {
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
}

func main() {
	endpoint := os.Args[1]
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{endpoint}, DialTimeout: 5 * time.Second})
	must(err)
	defer cli.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	put, err := cli.Put(ctx, "hello", "world")
	must(err)
	first := put.Header.Revision
	fmt.Println("put hello world: revision", first)

	grant, err := cli.Grant(ctx, 200)
	must(err)
	fmt.Println("lease grant 200: ttl", grant.TTL)
	_, err = cli.Put(ctx, "hello", "world2", clientv3.WithLease(grant.ID))
	must(err)

	get, err := cli.Get(ctx, "hello")
	must(err)
	kv := get.Kvs[0]
	fmt.Printf("get hello: %s version=%d create=%d mod=%d leased=%v\n", kv.Value, kv.Version,
		kv.CreateRevision, kv.ModRevision, kv.Lease == int64(grant.ID))

	old, err := cli.Get(ctx, "hello", clientv3.WithRev(first))
	must(err)
	fmt.Printf("get hello --rev=%d: %s\n", first, old.Kvs[0].Value)

	del, err := cli.Delete(ctx, "hello")
	must(err)
	fmt.Println("del hello:", del.Deleted)

	watch := cli.Watch(ctx, "hello")
	short, err := cli.Grant(ctx, 3)
	must(err)
	_, err = cli.Put(ctx, "hello", "world-age", clientv3.WithLease(short.ID))
	must(err)
	for seen := 0; seen < 2; {
		resp, ok := <-watch
		if !ok {
			fmt.Println("watch closed")
			os.Exit(1)
		}
		must(resp.Err())
		for _, ev := range resp.Events {
			fmt.Printf("watch: %s %s %s\n", ev.Type, ev.Kv.Key, ev.Kv.Value)
			seen++
		}
	}

	_, err = cli.Get(ctx, "hello", clientv3.WithRev(1000000))
	fmt.Println("get future revision:", err)
	_, err = cli.Put(ctx, "", "x")
	fmt.Println("put empty key:", err)
}
