package main

import (
	"fmt"
	"os"

	"github.com/cockroachdb/pebble"
)

func main() {
	db, err := pebble.Open(os.Args[1], &pebble.Options{})
	if err != nil {
		panic(err)
	}
	_ = db.Set([]byte("k"), []byte("v"), pebble.Sync)
	fmt.Println(db.Close())
}
