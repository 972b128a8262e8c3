namespace OrleansDsm.Grains.Persistence;

/// <summary>
/// Marks a grain state whose every object is left as it is once handed to storage: its grain makes a new object for
/// each change (a page's committed image; its writes go to a clone). Storage in the silo's own memory may then keep
/// the object itself, shared with the activations that read it, instead of a serialized copy.
/// </summary>
public interface IUnchangedOnceStored;
