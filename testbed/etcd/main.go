// Command etcd is etcd's own server, built from the module proxy at the version go.mod pins,
// for the testbed's control plane (testbed/up).
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
