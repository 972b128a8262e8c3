global using OrleansDsm.Connection;
global using OrleansDsm.Errors;
